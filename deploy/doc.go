// Package deploy holds no code: its tests check the deployment files beside
// it (the container image, the Kubernetes manifests, the systemd unit)
// against the Kubernetes API types and the liaison binary. It is a module
// of its own so that the Kubernetes API modules stay out of the gateway's.
package deploy
