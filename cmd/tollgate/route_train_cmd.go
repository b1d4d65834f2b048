package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
)

// newRouteTrainCmd: tollgate route train --data FILE --out FILE.
func newRouteTrainCmd() *cobra.Command {
	var dataPath, outPath, feedbackPath, split string
	var epochs int
	var seed uint64
	var recall, l2 float64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "train --data FILE --out FILE",
		Short: "Train a routing classifier from a labelled set (and feedback)",
		Long: `Trains the routing classifier (logistic regression over hashed word n-grams of
the last turn plus structural features) on a labelled set: JSON lines, plain or
gzip, each {"id","label":"easy|hard|premium","request":{chat body},"split"}.
Only items of --split (default "train") and unsplit items are read, so a test
split stays unseen. --feedback FILE (JSON lines as GET .../feedback returns
them) relabels items whose request_id was rated "needed a stronger model" one
tier up. The model file is what a tenant installs with
'tollgate route install' and names in its policy's "classifier".`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := os.Open(dataPath)
			if err != nil {
				return errkind.Wrap(errkind.Invalid, err, "--data %s cannot be read", dataPath)
			}
			items, err := routing.ReadRouteSet(f)
			f.Close()
			if err != nil {
				return err
			}
			if feedbackPath != "" {
				fb, err := readFeedbackFile(feedbackPath)
				if err != nil {
					return err
				}
				items = routing.ApplyFeedback(items, fb)
			}
			examples, err := routing.TrainingExamples(items, split)
			if err != nil {
				return err
			}
			c, rep, err := routing.TrainClassifier(routing.TrainInput{Examples: examples, Epochs: epochs, L2: l2, Seed: seed, HardRecall: recall})
			if err != nil {
				return err
			}
			b, err := c.MarshalBinary()
			if err != nil {
				return err
			}
			if err := os.WriteFile(outPath, b, 0o644); err != nil {
				return errkind.Wrap(errkind.Invalid, err, "--out %s cannot be written", outPath)
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trained on %d examples %v; validation fold %d: easy→economy %.1f%%, hard kept %.1f%%\n",
				rep.Examples, rep.Labels, rep.Validation, rep.ValEasyEconomy*100, rep.ValHardKept*100)
			fmt.Fprintf(cmd.OutOrStdout(), "thresholds: standard %.3f, premium %.2f; model written to %s (%d bytes)\n",
				rep.StandardThreshold, rep.PremiumThreshold, outPath, len(b))
			return nil
		},
	}
	cmd.Flags().StringVar(&dataPath, "data", "", "labelled set (JSON lines, plain or gzip)")
	cmd.Flags().StringVar(&outPath, "out", "", "model file to write")
	cmd.Flags().StringVar(&feedbackPath, "feedback", "", "feedback export (JSON lines) that relabels items by request_id")
	cmd.Flags().StringVar(&split, "split", "train", `split to train on ("" = all items)`)
	cmd.Flags().IntVar(&epochs, "epochs", 0, "passes over the data (0 = 8)")
	cmd.Flags().Uint64Var(&seed, "seed", 14, "shuffle seed (same data and seed, same model)")
	cmd.Flags().Float64Var(&recall, "hard-recall", 0, "share of hard examples the standard threshold keeps off economy on the validation folds (0 = 0.93)")
	cmd.Flags().Float64Var(&l2, "l2", 0, "weight decay (0 = 3e-3)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the training report as JSON")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// readFeedbackFile reads JSON lines of feedback records.
func readFeedbackFile(path string) ([]routing.Feedback, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "--feedback %s cannot be read", path)
	}
	var out []routing.Feedback
	dec := json.NewDecoder(bytes.NewReader(raw))
	for dec.More() {
		var f routing.Feedback
		if err := dec.Decode(&f); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "--feedback %s is not JSON lines of feedback", path)
		}
		out = append(out, f)
	}
	return out, nil
}

// newRouteInstallCmd: tollgate route install --tenant T --name N --model FILE.
func newRouteInstallCmd(g *globalFlags) *cobra.Command {
	var tenantRef, name, modelPath string
	cmd := &cobra.Command{
		Use:   "install --tenant T --name N --model FILE",
		Short: "Install a trained routing classifier for a tenant (select it with the policy's \"classifier\")",
		RunE: func(cmd *cobra.Command, _ []string) error {
			model, err := os.ReadFile(modelPath)
			if err != nil {
				return errkind.Wrap(errkind.Invalid, err, "--model %s cannot be read", modelPath)
			}
			a, h, err := openOnlyOrNamedTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			c, err := gateway.InstallClassifier(cmd.Context(), h, name, model, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "installed classifier %q for %s (standard threshold %.3f, premium %.2f); set \"classifier\": %q in the routing policy to use it\n",
				c.Name, h.Tenant().Slug, c.StandardThreshold, c.PremiumThreshold, c.Name)
			return nil
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id (optional when there is only one tenant)")
	cmd.Flags().StringVar(&name, "name", "", "classifier name the policy refers to")
	cmd.Flags().StringVar(&modelPath, "model", "", "model file written by route train")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("model")
	return cmd
}
