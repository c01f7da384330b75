/*
 * The local control plane on this machine: `k8c up`, `k8c status` and
 * `k8c down`. Each process is started detached with its log in
 * <state>/logs/<name>.log and its pid in <state>/run/<name>.pid; the PKI lives
 * in <state>/pki and data in <state>/data/<name>.
 */
#ifndef K8C_DEPLOY_CLUSTER_H
#define K8C_DEPLOY_CLUSTER_H

/* Subcommands of the k8c CLI: argv[0] is the subcommand name. Exit codes. */
int cluster_cmd_up(int argc, char **argv);
int cluster_cmd_status(int argc, char **argv);
int cluster_cmd_down(int argc, char **argv);

#endif
