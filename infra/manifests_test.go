// Package infra holds the tests of the deployment files: the Kubernetes manifests
// under k8s/ and the Prometheus rules and Grafana dashboard under monitoring/.
package infra

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/tier"
)

// kustomization is the part of kustomize's Kustomization the manifests use;
// strict parsing rejects any other field.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name   string `json:"name"`
		NewTag string `json:"newTag"`
	} `json:"images"`
}

// manifests is every object under k8s/, typed.
type manifests struct {
	kustomizations map[string]kustomization // by directory
	namespaces     []corev1.Namespace
	configMaps     []corev1.ConfigMap
	secrets        []corev1.Secret
	services       []corev1.Service
	statefulSets   []appsv1.StatefulSet
	deployments    []appsv1.Deployment
	jobs           []batchv1.Job
	hpas           []autoscalingv2.HorizontalPodAutoscaler
	pdbs           []policyv1.PodDisruptionBudget
	files          []string // every YAML file, relative to k8s/
}

// workload is a pod template with the object that owns it.
type workload struct {
	kind, name string
	selector   *metav1.LabelSelector
	template   corev1.PodTemplateSpec
	claims     []corev1.PersistentVolumeClaim
}

func (m manifests) workloads() []workload {
	var out []workload
	for _, s := range m.statefulSets {
		out = append(out, workload{"StatefulSet", s.Name, s.Spec.Selector, s.Spec.Template, s.Spec.VolumeClaimTemplates})
	}
	for _, d := range m.deployments {
		out = append(out, workload{"Deployment", d.Name, d.Spec.Selector, d.Spec.Template, nil})
	}
	for _, j := range m.jobs {
		out = append(out, workload{"Job", j.Name, j.Spec.Selector, j.Spec.Template, nil})
	}
	return out
}

// strictInto decodes one document into a typed object, failing on unknown or
// duplicate fields.
func strictInto[T any](t *testing.T, where string, doc []byte) T {
	t.Helper()
	var v T
	require.NoError(t, yaml.UnmarshalStrict(doc, &v), where)
	return v
}

// loadManifests parses every YAML document under k8s/ by its kind.
func loadManifests(t *testing.T) manifests {
	t.Helper()
	m := manifests{kustomizations: map[string]kustomization{}}
	root := "k8s"
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Overlays and components hold patches, not whole objects: overlays_test.go
		// reads them.
		if d.IsDir() && (path == filepath.Join(root, "overlays") || path == filepath.Join(root, "components")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		m.files = append(m.files, rel)
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		for i, doc := range splitDocuments(raw) {
			where := rel + " document " + string(rune('1'+i))
			var tm metav1.TypeMeta
			require.NoError(t, yaml.Unmarshal(doc, &tm), where)
			switch tm.APIVersion + " " + tm.Kind {
			case "kustomize.config.k8s.io/v1beta1 Kustomization":
				m.kustomizations[filepath.Dir(rel)] = strictInto[kustomization](t, where, doc)
			case "v1 Namespace":
				m.namespaces = append(m.namespaces, strictInto[corev1.Namespace](t, where, doc))
			case "v1 ConfigMap":
				m.configMaps = append(m.configMaps, strictInto[corev1.ConfigMap](t, where, doc))
			case "v1 Secret":
				m.secrets = append(m.secrets, strictInto[corev1.Secret](t, where, doc))
			case "v1 Service":
				m.services = append(m.services, strictInto[corev1.Service](t, where, doc))
			case "apps/v1 StatefulSet":
				m.statefulSets = append(m.statefulSets, strictInto[appsv1.StatefulSet](t, where, doc))
			case "apps/v1 Deployment":
				m.deployments = append(m.deployments, strictInto[appsv1.Deployment](t, where, doc))
			case "batch/v1 Job":
				m.jobs = append(m.jobs, strictInto[batchv1.Job](t, where, doc))
			case "autoscaling/v2 HorizontalPodAutoscaler":
				m.hpas = append(m.hpas, strictInto[autoscalingv2.HorizontalPodAutoscaler](t, where, doc))
			case "policy/v1 PodDisruptionBudget":
				m.pdbs = append(m.pdbs, strictInto[policyv1.PodDisruptionBudget](t, where, doc))
			default:
				t.Fatalf("%s: unexpected kind %q (apiVersion %q); add it to loadManifests", where, tm.Kind, tm.APIVersion)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return m
}

// splitDocuments splits a YAML stream on "---" lines, dropping empty documents.
func splitDocuments(raw []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		if strings.TrimSpace(stripComments(d)) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// Strict parsing really rejects a misspelt field (the guard every other test
// relies on).
func TestStrictParsingRejectsUnknownFields(t *testing.T) {
	t.Parallel()
	var d appsv1.Deployment
	err := yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 2\n"), &d)
	require.ErrorContains(t, err, "replica")
	err = yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nkind: Deployment\n"), &d)
	require.Error(t, err, "duplicate keys")
}

// Every manifest belongs to a kustomization (but the Secret example), every
// resource listed exists, and each kustomization sets the namespace and image.
func TestKustomizationsListEveryManifest(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	require.Contains(t, m.kustomizations, ".", "k8s/kustomization.yaml")
	listed := map[string]bool{}
	for dir, k := range m.kustomizations {
		require.Equal(t, "tollgate", k.Namespace, dir)
		require.Len(t, k.Images, 1, dir)
		require.Equal(t, "ghcr.io/tollgate-dev/tollgate", k.Images[0].Name, dir)
		require.NotEmpty(t, k.Images[0].NewTag, dir)
		require.NotEqual(t, "latest", k.Images[0].NewTag, dir)
		for _, r := range k.Resources {
			p := filepath.Join(dir, r)
			require.FileExists(t, filepath.Join("k8s", p), "%s/kustomization.yaml lists %s", dir, r)
			listed[p] = true
		}
	}
	require.Equal(t, m.kustomizations["."].Images, m.kustomizations["migrate"].Images, "the migrate Job runs the release's image")
	for _, f := range m.files {
		if filepath.Base(f) == "kustomization.yaml" || f == "secret.example.yaml" {
			continue
		}
		require.True(t, listed[f], "%s is in no kustomization", f)
	}
	require.False(t, listed["secret.example.yaml"], "the Secret example must never be applied")
}

func TestSelectorsMatch(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	ws := m.workloads()
	require.NotEmpty(t, ws)
	for _, w := range ws {
		require.Equal(t, "tollgate", w.template.Labels["app.kubernetes.io/name"], w.name)
		if w.kind == "Job" {
			continue // the Job controller generates its selector
		}
		sel, err := metav1.LabelSelectorAsSelector(w.selector)
		require.NoError(t, err, w.name)
		require.False(t, sel.Empty(), "%s selects everything", w.name)
		require.True(t, sel.Matches(labels.Set(w.template.Labels)), "%s %s: selector %s does not match its pod labels %v", w.kind, w.name, sel, w.template.Labels)
	}
	podsMatching := func(sel labels.Selector) []string {
		var names []string
		for _, w := range ws {
			if w.kind != "Job" && sel.Matches(labels.Set(w.template.Labels)) {
				names = append(names, w.name)
			}
		}
		return names
	}
	for _, s := range m.services {
		require.NotEmpty(t, s.Spec.Selector, s.Name)
		names := podsMatching(labels.SelectorFromSet(s.Spec.Selector))
		require.Len(t, names, 1, "Service %s must select the pods of exactly one workload, got %v", s.Name, names)
		for _, p := range s.Spec.Ports {
			require.True(t, hasPort(m, names[0], p.TargetPort.String()), "Service %s targets port %s its pods do not name", s.Name, p.TargetPort.String())
		}
	}
	for _, p := range m.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		require.NoError(t, err)
		require.Len(t, podsMatching(sel), 1, "PodDisruptionBudget %s", p.Name)
	}
	for _, ss := range m.statefulSets {
		var found bool
		for _, s := range m.services {
			found = found || (s.Name == ss.Spec.ServiceName && s.Spec.ClusterIP == corev1.ClusterIPNone)
		}
		require.True(t, found, "StatefulSet %s needs its headless Service %s", ss.Name, ss.Spec.ServiceName)
	}
}

func hasPort(m manifests, workloadName, port string) bool {
	for _, w := range m.workloads() {
		if w.name != workloadName {
			continue
		}
		for _, c := range w.template.Spec.Containers {
			for _, p := range c.Ports {
				if p.Name == port || port == itoa(p.ContainerPort) {
					return true
				}
			}
		}
	}
	return false
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// Each HPA scales an existing workload on CPU; the api keeps at least two replicas.
func TestAutoscalersTargetWorkloads(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	require.Len(t, m.hpas, 2, "one for the api, one for the worker")
	targets := map[string]bool{}
	for _, h := range m.hpas {
		ref := h.Spec.ScaleTargetRef
		require.Equal(t, "apps/v1", ref.APIVersion, h.Name)
		var found *workload
		for _, w := range m.workloads() {
			if w.kind == ref.Kind && w.name == ref.Name {
				found = &w
			}
		}
		require.NotNil(t, found, "HPA %s targets %s %s, which is not in the manifests", h.Name, ref.Kind, ref.Name)
		require.NotContains(t, targets, ref.Name, "two HPAs on %s", ref.Name)
		targets[ref.Name] = true
		require.NotNil(t, h.Spec.MinReplicas)
		require.Greater(t, h.Spec.MaxReplicas, *h.Spec.MinReplicas, h.Name)
		require.Len(t, h.Spec.Metrics, 1, h.Name)
		met := h.Spec.Metrics[0]
		require.Equal(t, autoscalingv2.ResourceMetricSourceType, met.Type, h.Name)
		require.Equal(t, corev1.ResourceCPU, met.Resource.Name, h.Name)
		require.Equal(t, autoscalingv2.UtilizationMetricType, met.Resource.Target.Type, h.Name)
		// CPU utilisation is relative to requests: every container must have one.
		for _, c := range found.template.Spec.Containers {
			require.False(t, c.Resources.Requests.Cpu().IsZero(), "%s has no CPU request for HPA %s", c.Name, h.Name)
		}
		if found.template.Labels["app.kubernetes.io/component"] == "api" {
			require.GreaterOrEqual(t, *h.Spec.MinReplicas, int32(2), "the api keeps two replicas")
		}
	}
}

// containers is every container of every workload, with its workload.
func containers(m manifests) []struct {
	w workload
	c corev1.Container
} {
	var out []struct {
		w workload
		c corev1.Container
	}
	for _, w := range m.workloads() {
		for _, c := range append(slices.Clone(w.template.Spec.InitContainers), w.template.Spec.Containers...) {
			out = append(out, struct {
				w workload
				c corev1.Container
			}{w, c})
		}
	}
	return out
}

// Every container has requests and limits, runs as the image's non-root uid,
// read-only and unprivileged, and mounts only volumes that exist.
func TestContainersAreBoundedAndUnprivileged(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	for _, wc := range containers(m) {
		w, c := wc.w, wc.c
		name := w.name + "/" + c.Name
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
			require.False(t, req.IsZero(), "%s: no %s request", name, r)
			require.False(t, lim.IsZero(), "%s: no %s limit (tier detection reads it)", name, r)
			require.LessOrEqual(t, req.Cmp(lim), 0, "%s: %s request above limit", name, r)
		}
		require.True(t, strings.HasPrefix(c.Image, "ghcr.io/tollgate-dev/tollgate:"), name)
		require.NotEmpty(t, c.Args, name)
		require.Contains(t, []string{"serve", "worker", "migrate"}, c.Args[0], "%s runs an unknown subcommand", name)

		pod := w.template.Spec.SecurityContext
		require.NotNil(t, pod, name)
		require.True(t, pod.RunAsNonRoot != nil && *pod.RunAsNonRoot, "%s: runAsNonRoot", name)
		require.True(t, pod.RunAsUser != nil && *pod.RunAsUser == 10001, "%s: uid 10001 as in infra/Dockerfile", name)
		require.True(t, pod.RunAsGroup != nil && *pod.RunAsGroup == 10001, "%s: gid 10001 as in infra/Dockerfile", name)
		require.NotNil(t, pod.SeccompProfile, name)
		require.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SeccompProfile.Type, name)
		sc := c.SecurityContext
		require.NotNil(t, sc, name)
		require.True(t, sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "%s: allowPrivilegeEscalation", name)
		require.True(t, sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "%s: readOnlyRootFilesystem", name)
		require.True(t, sc.Capabilities != nil && slices.Contains(sc.Capabilities.Drop, "ALL"), "%s: drop ALL capabilities", name)
		require.True(t, sc.Privileged == nil || !*sc.Privileged, name)

		volumes := map[string]bool{}
		for _, v := range w.template.Spec.Volumes {
			volumes[v.Name] = true
		}
		for _, pvc := range w.claims {
			volumes[pvc.Name] = true
		}
		for _, vm := range c.VolumeMounts {
			require.True(t, volumes[vm.Name], "%s mounts unknown volume %s", name, vm.Name)
		}
	}
}

// envOf is the environment a container starts with: its envFrom sources (the
// ConfigMap from the manifests, the Secret from its example) under its own env.
func envOf(t *testing.T, m manifests, c corev1.Container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		require.Empty(t, from.Prefix, c.Name)
		switch {
		case from.ConfigMapRef != nil:
			cm := find(t, m.configMaps, from.ConfigMapRef.Name, func(o corev1.ConfigMap) string { return o.Name })
			for k, v := range cm.Data {
				env[k] = v
			}
		case from.SecretRef != nil:
			s := find(t, m.secrets, from.SecretRef.Name, func(o corev1.Secret) string { return o.Name })
			for k, v := range s.StringData {
				env[k] = v
			}
		default:
			t.Fatalf("%s: envFrom without a source", c.Name)
		}
	}
	for _, e := range c.Env {
		require.Nil(t, e.ValueFrom, "%s: %s: use envFrom for secrets", c.Name, e.Name)
		env[e.Name] = e.Value
	}
	return env
}

func find[T any](t *testing.T, objs []T, name string, nameOf func(T) string) T {
	t.Helper()
	for _, o := range objs {
		if nameOf(o) == name {
			return o
		}
	}
	t.Fatalf("%s is referenced but not defined in k8s/", name)
	var zero T
	return zero
}

// Every variable the manifests set is one internal/config reads, and the resulting
// environment is a valid multi-tenant configuration (Postgres, Redis Cluster).
func TestEnvNamesAreConfigNames(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	known := config.KnownEnv()
	check := func(where, name string) {
		require.True(t, slices.Contains(known, name), "%s sets %s, which internal/config does not read (config.KnownEnv)", where, name)
	}
	for _, cm := range m.configMaps {
		for k := range cm.Data {
			check("ConfigMap "+cm.Name, k)
		}
	}
	require.Len(t, m.secrets, 1, "only the example Secret")
	secret := m.secrets[0]
	require.Empty(t, secret.Data, "the example carries placeholders in stringData only")
	for k, v := range secret.StringData {
		check("Secret "+secret.Name, k)
		require.Contains(t, v, "CHANGE-ME", "%s must be a placeholder", k)
	}
	for _, k := range []string{"TOLLGATE_DATABASE_URL", "TOLLGATE_MASTER_KEY", "TOLLGATE_JWT_SECRET", "STRIPE_API_KEY",
		"STRIPE_WEBHOOK_SECRET", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "ANTHROPIC_API_KEY"} {
		require.Contains(t, secret.StringData, k, "secrets belong in the Secret")
		for _, cm := range m.configMaps {
			require.NotContains(t, cm.Data, k, "%s is secret: keep it out of ConfigMap %s", k, cm.Name)
		}
	}
	for _, wc := range containers(m) {
		for _, e := range wc.c.Env {
			check(wc.w.name+"/"+wc.c.Name, e.Name)
		}
		require.NotEmpty(t, wc.c.EnvFrom, wc.w.name)
		cfg, err := config.Parse(envOf(t, m, wc.c))
		require.NoError(t, err, "%s: %v", wc.w.name, err)
		require.Equal(t, config.ModeMultiTenant, cfg.Mode, wc.w.name)
		require.Equal(t, config.DriverPostgres, cfg.DatabaseDriver(), wc.w.name)
		require.True(t, cfg.RedisCluster(), "%s: TOLLGATE_REDIS_URL is a cluster seed list", wc.w.name)
		require.GreaterOrEqual(t, len(cfg.RedisAddrs()), 3, wc.w.name)
		require.Equal(t, "json", cfg.Log.Format, wc.w.name)
	}
}

// The api is probed, drains before it is killed, and spools usage to a volume
// that outlives its container.
func TestAPIProbesShutdownAndSpool(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	var apis int
	for _, wc := range containers(m) {
		w, c := wc.w, wc.c
		if c.Args[0] != "serve" {
			continue
		}
		apis++
		require.Equal(t, "StatefulSet", w.kind, "the api keeps its spool on a per-replica volume")
		require.NotNil(t, c.ReadinessProbe, "readiness")
		require.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
		require.NotNil(t, c.LivenessProbe, "liveness")
		require.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
		require.NotNil(t, c.StartupProbe, "tenant migrations at start must not trip liveness")
		require.True(t, hasPort(m, w.name, c.ReadinessProbe.HTTPGet.Port.String()))

		cfg, err := config.Parse(envOf(t, m, c))
		require.NoError(t, err)
		require.Equal(t, ":"+itoa(c.Ports[0].ContainerPort), cfg.Addr, "TOLLGATE_ADDR matches the container port")
		require.NotNil(t, c.Lifecycle, "preStop")
		require.NotNil(t, c.Lifecycle.PreStop.Exec)
		cmd := c.Lifecycle.PreStop.Exec.Command
		require.Len(t, cmd, 2)
		require.Equal(t, "sleep", cmd[0])
		preStop, err := time.ParseDuration(cmd[1] + "s")
		require.NoError(t, err)
		// serve drains the ledger and returns leases for up to 10 s after the
		// HTTP grace (cmd/tollgate/serve.go).
		const drain = 10 * time.Second
		tgps := time.Duration(*w.template.Spec.TerminationGracePeriodSeconds) * time.Second
		require.Greater(t, tgps, preStop+cfg.HTTP.ShutdownGrace+drain,
			"terminationGracePeriodSeconds must exceed preStop + TOLLGATE_SHUTDOWN_GRACE + ledger drain")

		// The spool directory is a mount backed by a volume claim template.
		require.True(t, filepath.IsAbs(cfg.SpoolDir), cfg.SpoolDir)
		var mount *corev1.VolumeMount
		for i := range c.VolumeMounts {
			if c.VolumeMounts[i].MountPath == cfg.SpoolDir {
				mount = &c.VolumeMounts[i]
			}
		}
		require.NotNil(t, mount, "TOLLGATE_SPOOL_DIR=%s must be a volume mount", cfg.SpoolDir)
		require.True(t, slices.ContainsFunc(w.claims, func(p corev1.PersistentVolumeClaim) bool { return p.Name == mount.Name }),
			"the spool volume must be a volumeClaimTemplate")
		require.NotNil(t, w.template.Spec.SecurityContext.FSGroup, "the spool volume must be writable by uid 10001")
	}
	require.Equal(t, 1, apis)
	for _, ss := range m.statefulSets {
		require.NotNil(t, ss.Spec.PersistentVolumeClaimRetentionPolicy)
		require.Equal(t, appsv1.RetainPersistentVolumeClaimRetentionPolicyType, ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled,
			"a scaled-down replica's spool must survive to be replayed")
	}
}

// The limits put api and worker in the tier their comments promise, as the tier
// detection would read them from the cgroup on a big node.
func TestLimitsGiveTheDocumentedTier(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	for _, wc := range containers(m) {
		if wc.c.Args[0] == "migrate" {
			continue
		}
		lim := wc.c.Resources.Limits
		p := tier.Classify(tier.Resources{Mode: tier.ModeKubernetes, HostCPUs: 64, HostMemoryBytes: 256 << 30, CgroupVersion: 2,
			CPULimitMillis: lim.Cpu().MilliValue(), MemoryLimitBytes: uint64(lim.Memory().Value())})
		require.Equal(t, tier.TierBalanced, p.Tier, "%s: %v", wc.w.name, p.Reasons)
	}
}

// The pods Prometheus scrapes announce the port that serves /metrics.
func TestScrapeAnnotations(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	for _, w := range m.workloads() {
		if w.kind == "Job" {
			continue
		}
		a := w.template.Annotations
		require.Equal(t, "true", a["prometheus.io/scrape"], w.name)
		require.Equal(t, "/metrics", a["prometheus.io/path"], w.name)
		c := w.template.Spec.Containers[0]
		port := a["prometheus.io/port"]
		require.True(t, slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return itoa(p.ContainerPort) == port }), w.name)
		if c.Args[0] == "worker" {
			require.Contains(t, c.Args, "--metrics-addr=:"+port, "the worker serves /metrics only with --metrics-addr")
		}
	}
}

// Namespace objects enforce the restricted Pod Security Standard the pods meet.
func TestNamespaceEnforcesRestricted(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	require.Len(t, m.namespaces, 1)
	require.Equal(t, "restricted", m.namespaces[0].Labels["pod-security.kubernetes.io/enforce"])
	require.Equal(t, "tollgate", m.namespaces[0].Name)
}
