package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kinds are the API types the manifests may hold.
var kinds = map[string]func() any{
	"v1/ServiceAccount":                  func() any { return &corev1.ServiceAccount{} },
	"v1/Service":                         func() any { return &corev1.Service{} },
	"v1/ConfigMap":                       func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                          func() any { return &corev1.Secret{} },
	"apps/v1/Deployment":                 func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget":      func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy": func() any { return &networkingv1.NetworkPolicy{} },
}

// decodeStrict decodes one YAML document into its typed API object as the
// API server's strict field validation does: unknown and duplicate fields
// are errors, and field names match case-sensitively.
func decodeStrict(doc []byte) (any, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, err
	}
	var tm struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
		return nil, err
	}
	mk, ok := kinds[tm.APIVersion+"/"+tm.Kind]
	if !ok {
		return nil, fmt.Errorf("unexpected kind %s/%s", tm.APIVersion, tm.Kind)
	}
	obj := mk()
	strict, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowUnknownFields)
	if err != nil {
		return nil, err
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("strict decoding: %v", strict)
	}
	return obj, nil
}

// documents splits a YAML stream into its non-empty documents.
func documents(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(b), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(d, "")) != "" {
			docs = append(docs, []byte(d))
		}
	}
	return docs
}

// manifests decodes every document of kubernetes/*.yaml strictly.
func manifests(t *testing.T) []any {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var objs []any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range documents(b) {
			obj, err := decodeStrict(doc)
			if err != nil {
				t.Fatalf("%s, document %d: %v", f, i+1, err)
			}
			objs = append(objs, obj)
		}
	}
	return objs
}

func TestManifestsDecodeStrictly(t *testing.T) {
	objs := manifests(t)
	var got []string
	for _, o := range objs {
		got = append(got, fmt.Sprintf("%T", o))
	}
	for _, want := range []string{"*v1.ServiceAccount", "*v1.Deployment", "*v1.Service", "*v1.PodDisruptionBudget", "*v1.NetworkPolicy"} {
		if !slices.Contains(got, want) {
			t.Errorf("manifests hold %v; want a %s", got, want)
		}
	}
	// The decoder refuses what the API server would: show that it can fail.
	for name, doc := range map[string]string{
		"unknown field":   "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {selectr: {app: x}}\n",
		"wrong case":      "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {Selector: {app: x}}\n",
		"duplicate field": "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nmetadata: {name: y}\n",
		"wrong type":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: three}\n",
		"unknown kind":    "apiVersion: v1\nkind: Servise\nmetadata: {name: x}\n",
	} {
		if _, err := decodeStrict([]byte(doc)); err == nil {
			t.Errorf("decodeStrict accepted a document with a %s", name)
		}
	}
}

// deployment returns the manifests' Deployment and its liaison container.
func deployment(t *testing.T) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	for _, o := range manifests(t) {
		if d, ok := o.(*appsv1.Deployment); ok {
			for i, c := range d.Spec.Template.Spec.Containers {
				if c.Name == "liaison" {
					return d, &d.Spec.Template.Spec.Containers[i]
				}
			}
		}
	}
	t.Fatal("no Deployment with a liaison container")
	return nil, nil
}

// mountOf returns the volume mounted at the folder holding path, or nil.
func mountOf(d *appsv1.Deployment, c *corev1.Container, path string) (*corev1.VolumeMount, *corev1.Volume) {
	for i, m := range c.VolumeMounts {
		if strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			for j, v := range d.Spec.Template.Spec.Volumes {
				if v.Name == m.Name {
					return &c.VolumeMounts[i], &d.Spec.Template.Spec.Volumes[j]
				}
			}
			return &c.VolumeMounts[i], nil
		}
	}
	return nil, nil
}

func TestDeploymentInvariants(t *testing.T) {
	d, c := deployment(t)
	pod := d.Spec.Template.Spec
	psc, csc := pod.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil {
		t.Fatal("the pod and the container need a securityContext")
	}
	uid, gid := imageUser(t)
	switch {
	case psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot:
		t.Error("runAsNonRoot is not true")
	case psc.RunAsUser == nil || *psc.RunAsUser == 0:
		t.Error("runAsUser is not a numeric, non-root user: the kubelet cannot check runAsNonRoot against a named one")
	case *psc.RunAsUser != uid || psc.RunAsGroup == nil || *psc.RunAsGroup != gid:
		t.Errorf("runAsUser/runAsGroup %d/%v differ from the image's USER %d:%d", *psc.RunAsUser, psc.RunAsGroup, uid, gid)
	}
	// A Secret volume's files (the gateway's private key) are readable by
	// their owner, root, and at most the gateway's own group: defaultMode
	// 0400, or 0440 with fsGroup the gateway's runAsGroup (the gateway
	// does not run as root: it reads them as its group). The kubelet's
	// default, 0644, lets every user of the container read the key, and
	// the gateway warns of it at start.
	for _, v := range pod.Volumes {
		if v.Secret == nil {
			continue
		}
		switch m := v.Secret.DefaultMode; {
		case m == nil:
			t.Errorf("Secret volume %s has no defaultMode: its files are 0644, readable by anyone", v.Name)
		case *m == 0o440 && (psc.FSGroup == nil || psc.RunAsGroup == nil || *psc.FSGroup != *psc.RunAsGroup):
			t.Errorf("Secret volume %s has defaultMode 0440 without fsGroup the gateway's runAsGroup: its group is another's", v.Name)
		case *m != 0o400 && *m != 0o440:
			t.Errorf("Secret volume %s has defaultMode %04o, want 0400 or 0440", v.Name, *m)
		}
		for _, it := range v.Secret.Items {
			if it.Mode != nil && *it.Mode&0o037 != 0 {
				t.Errorf("Secret volume %s: %s has mode %04o", v.Name, it.Key, *it.Mode)
			}
		}
	}
	if csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		t.Error("capabilities are not all dropped")
	}

	flags := parseArgs(t, c.Args, "serve")
	// One checkpoint signer for every replica: a Transit key in Vault,
	// which the replicas reach with their service account.
	if *d.Spec.Replicas > 1 {
		if flags.get("audit-signer") != "vault" || flags.get("audit-vault-key") == "" {
			t.Errorf("%d replicas without -audit-signer=vault and -audit-vault-key: each would sign with a key of its own", *d.Spec.Replicas)
		}
		if flags.get("audit-db") != "$(LIAISON_AUDIT_DB)" || envFrom(c, "LIAISON_AUDIT_DB") == nil || envFrom(c, "LIAISON_AUDIT_DB").SecretKeyRef == nil {
			t.Error("the shared audit database URL does not come from a secret")
		}
		// The password is not in the URL, which the kubelet expands into
		// the command line (ps on the node, /proc/<pid>/cmdline): PostgreSQL's
		// client reads it from PGPASSWORD, from the secret.
		if pw := envFrom(c, "PGPASSWORD"); pw == nil || pw.SecretKeyRef == nil || pw.SecretKeyRef.Name != envFrom(c, "LIAISON_AUDIT_DB").SecretKeyRef.Name {
			t.Error("the audit database's password does not come from the database secret in PGPASSWORD, apart from the URL on the command line")
		}
	}
	if flags.get("vault-auth") != "kubernetes" || flags.get("vault-k8s-role") == "" || env(c, "VAULT_ADDR") == "" {
		t.Error("Vault is not reached with Kubernetes auth and VAULT_ADDR")
	}
	// Nothing is written to the read-only filesystem: no local key files.
	for _, f := range []string{"audit-key", "keys", "policies"} {
		if flags.has(f) {
			t.Errorf("-%s in a Deployment with a read-only root filesystem and several replicas", f)
		}
	}
	// The policies come as a signed bundle from a ConfigMap, and its
	// verification key from another, which a different role can own.
	bundle, key := flags.get("policy-bundle"), flags.get("policy-bundle-key")
	_, bv := mountOf(d, c, bundle)
	_, kv := mountOf(d, c, key)
	switch {
	case bundle == "" || key == "":
		t.Error("no -policy-bundle with -policy-bundle-key")
	case bv == nil || bv.ConfigMap == nil || kv == nil || kv.ConfigMap == nil:
		t.Errorf("the bundle %s and its key %s are not mounted from ConfigMaps", bundle, key)
	case bv.ConfigMap.Name == kv.ConfigMap.Name:
		t.Errorf("the bundle and its verification key share the ConfigMap %s: who can change one can change both", bv.ConfigMap.Name)
	case filepath.Base(key) != "liaison.pem":
		t.Errorf("verification key %s: its file name must be the key id `liaison policy bundle` signs with (liaison.pem)", key)
	}
	// Every file the gateway and its probes read is mounted, read-only.
	files := flags.paths()
	for _, p := range []*corev1.Probe{c.StartupProbe, c.ReadinessProbe, c.LivenessProbe} {
		if p != nil && p.Exec != nil {
			files = append(files, parseArgs(t, p.Exec.Command[1:], "health").paths()...)
		}
	}
	if ca := env(c, "VAULT_CACERT"); ca != "" {
		files = append(files, ca)
	}
	for _, f := range files {
		m, v := mountOf(d, c, f)
		if m == nil || v == nil || !m.ReadOnly {
			t.Errorf("%s is not on a read-only mounted volume", f)
		}
	}

	// Probes: `liaison health` in the container over the TLS port; ready
	// only when SERVING; liveness and start-up when it answers at all.
	port := c.Ports[0].ContainerPort
	for name, tt := range map[string]struct {
		p    *corev1.Probe
		live bool
	}{"startupProbe": {c.StartupProbe, true}, "readinessProbe": {c.ReadinessProbe, false}, "livenessProbe": {c.LivenessProbe, true}} {
		p := tt.p
		if p == nil || p.Exec == nil || p.GRPC != nil || p.HTTPGet != nil || p.TCPSocket != nil {
			t.Errorf("%s is not an exec probe", name)
			continue
		}
		cmd := p.Exec.Command
		if len(cmd) < 2 || cmd[0] != imageEntrypoint(t) || cmd[1] != "health" {
			t.Errorf("%s runs %q, want %s health", name, cmd, imageEntrypoint(t))
			continue
		}
		h := parseArgs(t, cmd[1:], "health")
		if h.has("live") != tt.live {
			t.Errorf("%s: -live = %v, want %v", name, h.has("live"), tt.live)
		}
		if !strings.HasSuffix(h.get("addr"), ":"+strconv.Itoa(int(port))) || !strings.HasPrefix(h.get("addr"), "127.0.0.1:") {
			t.Errorf("%s: -addr %q is not the container's port %d on loopback", name, h.get("addr"), port)
		}
		if h.get("ca") == "" || h.get("server-name") == "" {
			t.Errorf("%s: no -ca and -server-name to verify the gateway's certificate", name)
		}
		if p.TimeoutSeconds < 1 {
			t.Errorf("%s: no timeoutSeconds", name)
		}
	}
	if flags.get("listen") != ":"+strconv.Itoa(int(port)) {
		t.Errorf("-listen %q is not the container port %d", flags.get("listen"), port)
	}

	// Prometheus reaches the admin listener (metrics and pprof) on a
	// declared port, and only from the monitoring namespace.
	admin := flags.get("admin-listen")
	_, adminPort, _ := strings.Cut(admin, ":")
	if !strings.HasPrefix(admin, ":") || !flags.has("admin-allow-remote") {
		t.Fatalf("-admin-listen %q with -admin-allow-remote %v: Prometheus cannot scrape a pod's loopback", admin, flags.has("admin-allow-remote"))
	}
	declared := false
	for _, p := range c.Ports {
		declared = declared || strconv.Itoa(int(p.ContainerPort)) == adminPort
	}
	if !declared || d.Spec.Template.Annotations["prometheus.io/port"] != adminPort {
		t.Errorf("the admin port %s is not a container port and the pods' prometheus.io/port annotation", adminPort)
	}
	for _, o := range manifests(t) {
		np, ok := o.(*networkingv1.NetworkPolicy)
		if !ok {
			continue
		}
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port == nil || p.Port.String() != adminPort {
					continue
				}
				if len(rule.From) == 0 {
					t.Errorf("the network policy opens the admin port %s to everyone", adminPort)
				}
				for _, f := range rule.From {
					if f.NamespaceSelector == nil || f.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" {
						t.Errorf("the network policy opens the admin port %s to %+v, want the monitoring namespace only", adminPort, f)
					}
				}
			}
		}
	}
}

func env(c *corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func envFrom(c *corev1.Container, name string) *corev1.EnvVarSource {
	for _, e := range c.Env {
		if e.Name == name {
			return e.ValueFrom
		}
	}
	return nil
}

// args are a command line parsed with the flags its subcommand declares.
type args struct {
	flags map[string][]string
}

func (a args) has(name string) bool { _, ok := a.flags[name]; return ok }

func (a args) get(name string) string {
	if v := a.flags[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// paths returns the absolute file paths among the flag values.
func (a args) paths() []string {
	var ps []string
	for _, vs := range a.flags {
		for _, v := range vs {
			if strings.HasPrefix(v, "/") {
				ps = append(ps, v)
			}
		}
	}
	slices.Sort(ps)
	return ps
}

// parseArgs parses argv (the subcommand first) against the flags that
// `liaison <sub> -h` lists, and fails the test on any it does not know.
func parseArgs(t *testing.T, argv []string, sub string) args {
	t.Helper()
	if len(argv) == 0 || argv[0] != sub {
		t.Fatalf("command line %q does not start with %s", argv, sub)
	}
	known := knownFlags(t, sub)
	a := args{flags: map[string][]string{}}
	for i := 1; i < len(argv); i++ {
		arg := argv[i]
		if !strings.HasPrefix(arg, "-") {
			t.Fatalf("liaison %s: unexpected argument %q in %q", sub, arg, argv)
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		takesValue, ok := known[name]
		if !ok {
			t.Errorf("liaison %s has no flag -%s (%q)", sub, name, argv)
			continue
		}
		if takesValue && !hasVal {
			if i+1 >= len(argv) {
				t.Fatalf("liaison %s: -%s without a value", sub, name)
			}
			i++
			val = argv[i]
		}
		a.flags[name] = append(a.flags[name], val)
	}
	return a
}

var flagLine = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)( \S+)?$`)

// knownFlags returns the flags of `liaison <sub>` and whether each takes a
// value, from its -h text.
func knownFlags(t *testing.T, sub string) map[string]bool {
	t.Helper()
	out, _ := runLiaison(sub, "-h")
	m := map[string]bool{}
	for _, g := range flagLine.FindAllStringSubmatch(out, -1) {
		m[g[1]] = g[2] != ""
	}
	if len(m) == 0 {
		t.Fatalf("liaison %s -h lists no flags:\n%s", sub, out)
	}
	return m
}

// dockerfile returns the image's instructions, continuation lines joined.
func dockerfile(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAll(b, nil)
	ins := map[string]string{}
	for _, line := range bytes.Split(joined, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		k, v, _ := strings.Cut(s, " ")
		ins[k] = strings.TrimSpace(v) // the last one wins, as in the final stage
	}
	return ins
}

// imageUser returns the image's USER, which must be numeric.
func imageUser(t *testing.T) (uid, gid int64) {
	t.Helper()
	u := dockerfile(t)["USER"]
	us, gs, _ := strings.Cut(u, ":")
	uid, err1 := strconv.ParseInt(us, 10, 64)
	gid, err2 := strconv.ParseInt(gs, 10, 64)
	if err1 != nil || err2 != nil || uid == 0 {
		t.Fatalf("image USER %q is not a numeric non-root uid:gid", u)
	}
	return uid, gid
}

// imageEntrypoint returns the image's entry point, the liaison binary.
func imageEntrypoint(t *testing.T) string {
	t.Helper()
	var ep []string
	if err := yaml.Unmarshal([]byte(dockerfile(t)["ENTRYPOINT"]), &ep); err != nil || len(ep) != 1 {
		t.Fatalf("ENTRYPOINT %q: want one binary in exec form (%v)", dockerfile(t)["ENTRYPOINT"], err)
	}
	return ep[0]
}
