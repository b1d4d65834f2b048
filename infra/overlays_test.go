package infra

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/tier"
)

// scaledObject is KEDA's keda.sh/v1alpha1 ScaledObject (the fields of KEDA
// v2.17's ScaledObjectSpec that a manifest may set), so that strict parsing
// rejects a misspelt field. KEDA's own Go module needs another k8s.io/api than
// ours, hence this copy; json names follow KEDA's apis/keda/v1alpha1.
type scaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              struct {
		ScaleTargetRef *struct {
			APIVersion             string `json:"apiVersion,omitempty"`
			Kind                   string `json:"kind,omitempty"`
			Name                   string `json:"name"`
			EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
		} `json:"scaleTargetRef,omitempty"`
		PollingInterval  *int32 `json:"pollingInterval,omitempty"`
		InitialCooldown  *int32 `json:"initialCooldownPeriod,omitempty"`
		CooldownPeriod   *int32 `json:"cooldownPeriod,omitempty"`
		IdleReplicaCount *int32 `json:"idleReplicaCount,omitempty"`
		MinReplicaCount  *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount  *int32 `json:"maxReplicaCount,omitempty"`
		Advanced         *struct {
			HorizontalPodAutoscalerConfig *struct {
				Name     string                                         `json:"name,omitempty"`
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
			RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
		} `json:"advanced,omitempty"`
		Triggers []struct {
			Type              string            `json:"type"`
			Name              string            `json:"name,omitempty"`
			UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
			Metadata          map[string]string `json:"metadata"`
			AuthenticationRef *struct {
				Name string `json:"name"`
				Kind string `json:"kind,omitempty"`
			} `json:"authenticationRef,omitempty"`
			MetricType autoscalingv2.MetricTargetType `json:"metricType,omitempty"`
		} `json:"triggers,omitempty"`
		Fallback *struct {
			FailureThreshold int32 `json:"failureThreshold"`
			Replicas         int32 `json:"replicas"`
		} `json:"fallback,omitempty"`
	} `json:"spec"`
}

// overlayKustomization is the part of a Kustomization or Component the overlays
// and components use.
type overlayKustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Components []string `json:"components"`
	Patches    []struct {
		Path string `json:"path"`
	} `json:"patches"`
}

// patchSet is every patch file of a kustomization, typed.
type patchSet struct {
	statefulSets []appsv1.StatefulSet
	deployments  []appsv1.Deployment
	hpas         []autoscalingv2.HorizontalPodAutoscaler
	scaled       []scaledObject
	deletes      []metav1.PartialObjectMetadata
}

func readStrict[T any](t *testing.T, path string) T {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	return strictInto[T](t, path, raw)
}

func loadPatches(t *testing.T, dir string) (overlayKustomization, patchSet) {
	t.Helper()
	k := readStrict[overlayKustomization](t, filepath.Join(dir, "kustomization.yaml"))
	var ps patchSet
	files := slices.Clone(k.Resources)
	for _, p := range k.Patches {
		files = append(files, p.Path)
	}
	for _, f := range files {
		path := filepath.Join(dir, f)
		if strings.HasPrefix(f, "..") {
			continue // the base, read by loadManifests
		}
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		if strings.Contains(string(raw), "$patch: delete") {
			body := strings.Replace(string(raw), "$patch: delete", "", 1)
			ps.deletes = append(ps.deletes, strictInto[metav1.PartialObjectMetadata](t, path, []byte(body)))
			continue
		}
		var tm metav1.TypeMeta
		require.NoError(t, yaml.Unmarshal(raw, &tm), path)
		switch tm.APIVersion + " " + tm.Kind {
		case "apps/v1 StatefulSet":
			ps.statefulSets = append(ps.statefulSets, strictInto[appsv1.StatefulSet](t, path, raw))
		case "apps/v1 Deployment":
			ps.deployments = append(ps.deployments, strictInto[appsv1.Deployment](t, path, raw))
		case "autoscaling/v2 HorizontalPodAutoscaler":
			ps.hpas = append(ps.hpas, strictInto[autoscalingv2.HorizontalPodAutoscaler](t, path, raw))
		case "keda.sh/v1alpha1 ScaledObject":
			ps.scaled = append(ps.scaled, strictInto[scaledObject](t, path, raw))
		default:
			t.Fatalf("%s: unexpected kind %q", path, tm.Kind)
		}
	}
	return k, ps
}

// Strict parsing of the KEDA copy rejects a misspelt field, like the core types.
func TestScaledObjectParsingIsStrict(t *testing.T) {
	t.Parallel()
	var so scaledObject
	err := yaml.UnmarshalStrict([]byte("apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nspec:\n  maxReplicas: 3\n"), &so)
	require.ErrorContains(t, err, "maxReplicas")
}

// workerEnv is the environment the worker container starts with (base manifests).
func workerEnv(t *testing.T, m manifests) map[string]string {
	t.Helper()
	for _, wc := range containers(m) {
		if wc.c.Name == "worker" {
			return envOf(t, m, wc.c)
		}
	}
	t.Fatal("no worker container")
	return nil
}

// checkScaledObject: KEDA scales the worker Deployment on River's available jobs,
// with a connection string the worker itself reads, one replica per worker
// concurrency's worth of jobs (the concurrency of the tier its limits give).
func checkScaledObject(t *testing.T, m manifests, so scaledObject, workerTier tier.Tier) {
	t.Helper()
	require.Len(t, so.Spec.Triggers, 2, "queue depth and CPU")
	pg := so.Spec.Triggers[0]
	require.Equal(t, "postgresql", pg.Type)
	require.Contains(t, pg.Metadata["query"], "FROM river_job")
	require.Contains(t, pg.Metadata["query"], "state = 'available'")
	envName := pg.Metadata["connectionFromEnv"]
	require.Contains(t, config.KnownEnv(), envName)
	env := workerEnv(t, m)
	require.Contains(t, env, envName, "KEDA resolves %s from the worker's envFrom", envName)
	cfg, err := config.Parse(env)
	require.NoError(t, err)
	require.Equal(t, config.DriverPostgres, cfg.DatabaseDriver(), "River's jobs are in the Postgres control database")
	target, err := strconv.Atoi(pg.Metadata["targetQueryValue"])
	require.NoError(t, err)
	require.Equal(t, tier.KnobsFor(workerTier).WorkerConcurrency, target, "one worker per its concurrency in available jobs")
	cpu := so.Spec.Triggers[1]
	require.Equal(t, "cpu", cpu.Type)
	require.Equal(t, autoscalingv2.UtilizationMetricType, cpu.MetricType)
	require.NotNil(t, so.Spec.MinReplicaCount)
	require.NotNil(t, so.Spec.MaxReplicaCount)
	require.Greater(t, *so.Spec.MaxReplicaCount, *so.Spec.MinReplicaCount)
	require.GreaterOrEqual(t, *so.Spec.MinReplicaCount, int32(1), "keep a worker for periodic jobs")
}

func tierOf(res corev1.ResourceRequirements) tier.Tier {
	return tier.Classify(tier.Resources{Mode: tier.ModeKubernetes, HostCPUs: 64, HostMemoryBytes: 256 << 30, CgroupVersion: 2,
		CPULimitMillis: res.Limits.Cpu().MilliValue(), MemoryLimitBytes: uint64(res.Limits.Memory().Value())}).Tier
}

// The KEDA component scales the base worker on queue depth and removes the CPU
// HPA it replaces; without the component that HPA stays.
func TestKEDAComponent(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	k, ps := loadPatches(t, "k8s/components/keda")
	require.Equal(t, "kustomize.config.k8s.io/v1alpha1", k.APIVersion)
	require.Equal(t, "Component", k.Kind)
	require.Len(t, ps.scaled, 1)
	so := ps.scaled[0]
	ref := so.Spec.ScaleTargetRef
	require.NotNil(t, ref)
	dep := find(t, m.deployments, ref.Name, func(d appsv1.Deployment) string { return d.Name })
	require.Equal(t, "Deployment", ref.Kind)
	require.Equal(t, "tollgate", so.Namespace)
	require.Equal(t, dep.Spec.Template.Spec.Containers[0].Name, ref.EnvSourceContainerName)
	checkScaledObject(t, m, so, tierOf(dep.Spec.Template.Spec.Containers[0].Resources))

	require.Len(t, ps.deletes, 1, "the component deletes the worker's CPU HPA")
	del := ps.deletes[0]
	require.Equal(t, "HorizontalPodAutoscaler", del.Kind)
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	for i := range m.hpas {
		if m.hpas[i].Name == del.Name {
			hpa = &m.hpas[i]
		}
	}
	require.NotNil(t, hpa, "the deleted HPA %s exists in the base", del.Name)
	require.Equal(t, ref.Name, hpa.Spec.ScaleTargetRef.Name, "the deleted HPA is the one on the worker")
	require.Equal(t, *hpa.Spec.MinReplicas, *so.Spec.MinReplicaCount)
	require.Equal(t, hpa.Spec.MaxReplicas, *so.Spec.MaxReplicaCount)
}

// The in-flight component keeps the api's CPU target and adds requests in flight
// per pod, read through a custom-metrics adapter.
func TestAPIInFlightComponent(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	_, ps := loadPatches(t, "k8s/components/api-inflight")
	require.Len(t, ps.hpas, 1)
	h := ps.hpas[0]
	base := find(t, m.hpas, h.Name, func(o autoscalingv2.HorizontalPodAutoscaler) string { return o.Name })
	require.Equal(t, "StatefulSet", base.Spec.ScaleTargetRef.Kind, "patches the api's HPA")
	require.Len(t, h.Spec.Metrics, 2)
	require.Equal(t, base.Spec.Metrics[0], h.Spec.Metrics[0], "the CPU target is kept as in the base")
	pods := h.Spec.Metrics[1]
	require.Equal(t, autoscalingv2.PodsMetricSourceType, pods.Type)
	require.Equal(t, "tollgate_http_requests_in_flight", pods.Pods.Metric.Name)
	require.Equal(t, autoscalingv2.AverageValueMetricType, pods.Pods.Target.Type)
	require.False(t, pods.Pods.Target.AverageValue.IsZero())
	doc, err := os.ReadFile("../docs/deploy.md")
	require.NoError(t, err)
	require.Contains(t, string(doc), "tollgate_http_requests_in_flight", "docs/deploy.md has the adapter rule that serves the metric")
	require.Contains(t, string(doc), "tollgate_http_request_duration_seconds_sum", "the rule derives it from the duration histogram the api exports")
}

// The overlays patch objects of the base, keep requests under limits, and their
// limits give the tier each promises (and the KEDA target its concurrency).
func TestOverlays(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	for name, want := range map[string]tier.Tier{"small": tier.TierConstrained, "large": tier.TierHighPerformance} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("k8s", "overlays", name)
			k, ps := loadPatches(t, dir)
			require.Equal(t, "Kustomization", k.Kind)
			require.Equal(t, []string{"../.."}, k.Resources)
			for _, c := range k.Components {
				require.DirExists(t, filepath.Join(dir, c))
			}
			check := func(kind, objName string, tmpl corev1.PodTemplateSpec, baseNames []string) {
				require.NotEmpty(t, tmpl.Spec.Containers, objName)
				for _, c := range tmpl.Spec.Containers {
					require.Contains(t, baseNames, c.Name, "%s %s patches a container the base lacks", kind, objName)
					for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
						req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
						require.False(t, req.IsZero() || lim.IsZero(), "%s/%s %s", objName, c.Name, r)
						require.LessOrEqual(t, req.Cmp(lim), 0, "%s/%s: %s request above limit", objName, c.Name, r)
					}
					require.Equal(t, want, tierOf(c.Resources), "%s/%s limits", objName, c.Name)
				}
			}
			require.Len(t, ps.statefulSets, 1)
			require.Len(t, ps.deployments, 1)
			for _, s := range ps.statefulSets {
				base := find(t, m.statefulSets, s.Name, func(o appsv1.StatefulSet) string { return o.Name })
				check("StatefulSet", s.Name, s.Spec.Template, containerNames(base.Spec.Template))
			}
			for _, d := range ps.deployments {
				base := find(t, m.deployments, d.Name, func(o appsv1.Deployment) string { return o.Name })
				check("Deployment", d.Name, d.Spec.Template, containerNames(base.Spec.Template))
			}
			for _, h := range ps.hpas {
				find(t, m.hpas, h.Name, func(o autoscalingv2.HorizontalPodAutoscaler) string { return o.Name })
				require.NotNil(t, h.Spec.MinReplicas)
				require.Greater(t, h.Spec.MaxReplicas, *h.Spec.MinReplicas, h.Name)
				if h.Name == "tollgate-api" {
					require.GreaterOrEqual(t, *h.Spec.MinReplicas, int32(2), "the api keeps two replicas")
				}
			}
			usesKEDA := slices.Contains(k.Components, "../../components/keda")
			if usesKEDA {
				require.Len(t, ps.scaled, 1, "a KEDA overlay sizes its ScaledObject for its tier")
				checkScaledObject(t, m, ps.scaled[0], want)
			} else {
				require.Empty(t, ps.scaled)
			}
		})
	}
}

func containerNames(p corev1.PodTemplateSpec) []string {
	var out []string
	for _, c := range p.Spec.Containers {
		out = append(out, c.Name)
	}
	return out
}

// `tollgate config env --target kubernetes --cpus 4 --memory 4Gi` sizes for the
// pod (tier 2) and writes a ConfigMap and Secret template that drop into infra/k8s:
// same names, namespace, hosts and settings, and together a configuration the
// binary accepts.
func TestConfigEnvKubernetesMatchesManifests(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	res, err := tier.PodResources("4", "4Gi")
	require.NoError(t, err)
	p := tier.Classify(res)
	require.Equal(t, tier.TierBalanced, p.Tier, p.Reasons)
	out := tier.RenderKubernetes(p)
	docs := splitDocuments([]byte(out))
	require.Len(t, docs, 2)
	cm := strictInto[corev1.ConfigMap](t, "rendered ConfigMap", docs[0])
	secret := strictInto[corev1.Secret](t, "rendered Secret", docs[1])

	baseCM := find(t, m.configMaps, cm.Name, func(o corev1.ConfigMap) string { return o.Name })
	require.Equal(t, baseCM.Namespace, cm.Namespace)
	for k, v := range baseCM.Data {
		require.Equal(t, v, cm.Data[k], "ConfigMap %s: %s differs from infra/k8s/configmap.yaml", cm.Name, k)
	}
	knobs := p.Knobs
	for k, v := range map[string]string{tier.EnvWorkerConcurrency: strconv.Itoa(knobs.WorkerConcurrency), tier.EnvDBMaxOpenConns: strconv.Itoa(knobs.DBMaxOpenConns),
		tier.EnvLedgerBatchSize: strconv.Itoa(knobs.LedgerBatchSize), tier.EnvKeyCacheSize: strconv.Itoa(knobs.KeyCacheSize)} {
		require.Equal(t, v, cm.Data[k], k)
	}
	require.Equal(t, "8", cm.Data[tier.EnvWorkerConcurrency], "tier 2")

	baseSecret := find(t, m.secrets, secret.Name, func(o corev1.Secret) string { return o.Name })
	require.Equal(t, baseSecret.Namespace, secret.Namespace)
	require.Equal(t, baseSecret.StringData, secret.StringData, "the Secret template is infra/k8s/secret.example.yaml's")

	// The names the workloads load are these objects, and the merged env is valid.
	env := map[string]string{}
	for k, v := range cm.Data {
		require.Contains(t, config.KnownEnv(), k)
		env[k] = v
	}
	for k, v := range secret.StringData {
		require.Contains(t, config.KnownEnv(), k)
		env[k] = v
	}
	cfg, err := config.Parse(env)
	require.NoError(t, err)
	require.Equal(t, 8, cfg.Tier.WorkerConcurrency)
	require.Equal(t, 16, cfg.Database.MaxOpenConns)
	for _, wc := range containers(m) {
		for _, from := range wc.c.EnvFrom {
			if from.ConfigMapRef != nil {
				require.Equal(t, cm.Name, from.ConfigMapRef.Name, wc.w.name)
			}
			if from.SecretRef != nil {
				require.Equal(t, secret.Name, from.SecretRef.Name, wc.w.name)
			}
		}
	}
}
