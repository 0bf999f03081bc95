// Command gitops-health reads objects from a real API server and reports how two GitOps tools see
// them: kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status, what Flux and kubectl-based deploy tools
// run) and, with --lua, an Argo CD resource health script run under github.com/yuin/gopher-lua the
// way Argo CD runs it (argocd.go). It exists for the integration test
// test/integration/controller/gitops-health.test.ts; scripts/build-gitops-health.sh builds it.
//
//	gitops-health --kubeconfig K --resource ecsinstanceattributes.v1alpha1.ecs.alicloud.dev \
//	    --namespace NS [--lua deploy/helm/ecs-attributes-controller/files/argocd-health.lua] NAME...
//
// With --file LIST.json instead of the API server, it assesses the items of a JSON list (a kubectl
// `List`), e.g. shapes the API server cannot hold here (a kind whose CRD is not installed).
//
// Prints one JSON line per object:
//
//	{"name":"a","generation":2,"observedGeneration":2,"kstatus":{"status":"Current","message":"…"},"argocd":{"status":"Healthy","message":"…"}}
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// verdict is one tool's reading of one object.
type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

type report struct {
	Name               string   `json:"name"`
	Generation         int64    `json:"generation"`
	ObservedGeneration int64    `json:"observedGeneration"`
	Kstatus            verdict  `json:"kstatus"`
	ArgoCD             *verdict `json:"argocd,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gitops-health:", err)
		os.Exit(1)
	}
}

func run() error {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the API server to read from")
	resource := flag.String("resource", "", "resource.version.group, e.g. ecsinstanceattributes.v1alpha1.ecs.alicloud.dev")
	namespace := flag.String("namespace", "", "namespace of the objects (empty for cluster-scoped kinds)")
	luaPath := flag.String("lua", "", "Argo CD health script to run on each object (optional)")
	listPath := flag.String("file", "", "assess the items of this JSON List instead of reading from the API server")
	flag.Parse()
	var script string
	if *luaPath != "" {
		b, err := os.ReadFile(*luaPath)
		if err != nil {
			return err
		}
		script = string(b)
	}
	if *listPath != "" {
		return fromFile(*listPath, script)
	}
	gvr, _ := schema.ParseResourceArg(*resource)
	if gvr == nil || flag.NArg() == 0 {
		return fmt.Errorf("usage: gitops-health --kubeconfig K --resource resource.version.group [--namespace NS] [--lua FILE] NAME... | --file LIST.json [--lua FILE]")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		return err
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := json.NewEncoder(os.Stdout)
	for _, name := range flag.Args() {
		obj, err := client.Resource(*gvr).Namespace(*namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		r, err := assess(obj, script)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := out.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func fromFile(path, script string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var list unstructured.UnstructuredList
	if err := list.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out := json.NewEncoder(os.Stdout)
	for i := range list.Items {
		r, err := assess(&list.Items[i], script)
		if err != nil {
			return fmt.Errorf("%s: %w", list.Items[i].GetName(), err)
		}
		if err := out.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

func assess(obj *unstructured.Unstructured, script string) (*report, error) {
	ks, err := status.Compute(obj)
	if err != nil {
		return nil, err
	}
	observed, _, _ := unstructured.NestedInt64(obj.Object, "status", "observedGeneration")
	r := &report{
		Name:               obj.GetName(),
		Generation:         obj.GetGeneration(),
		ObservedGeneration: observed,
		Kstatus:            verdict{Status: ks.Status.String(), Message: ks.Message},
	}
	if script != "" {
		hs, err := argoHealth(obj.Object, script)
		if err != nil {
			return nil, err
		}
		r.ArgoCD = hs
	}
	return r, nil
}
