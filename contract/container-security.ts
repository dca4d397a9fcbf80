/**
 * How every bentoc container runs, shared by the Containerfile emitter, the Kubernetes emitter and the
 * digest-pinned manifests of `bentoc k8s` (bento/pinned-kubernetes.ts).
 */

/** The unprivileged user (and group) of every bentoc image: the Containerfile creates it, Kubernetes pins it. */
export const RUN_AS_USER = 10001;

/** A container's securityContext under the Pod Security "restricted" profile, read-only root included. */
export function restrictedSecurityContext() {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: RUN_AS_USER,
    runAsGroup: RUN_AS_USER,
  };
}
