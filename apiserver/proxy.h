/*
 * The subresources the API server forwards instead of answering: pods/log,
 * pods/exec, pods/attach, pods/portforward (to the kubelet of the pod's
 * node), pods/proxy (to the pod's IP) and nodes/proxy (to the node's
 * kubelet), as upstream's LogREST, ExecREST, AttachREST, PortForwardREST
 * and ProxyREST do.
 *
 * The pod (or node) is read from the store, the target found (spec.nodeName
 * -> Node status.addresses and status.daemonEndpoints.kubeletEndpoint.Port,
 * default 10250) and one HTTP/1.1 request sent over a fresh TCP (TLS for the
 * kubelet) connection (lib/tcpclient). Plain responses (logs, proxied GETs)
 * are streamed back with backpressure on both sides; upgrade requests
 * (websocket v5.channel.k8s.io, SPDY/3.1) are answered with the backend's
 * 101 and then relayed as raw bytes in both directions on the hijacked
 * client connection, without interpreting the frames.
 *
 * The kubelet's serving certificate is not verified unless a CA is
 * configured (upstream's --kubelet-certificate-authority); the API server
 * presents a client certificate to kubelets only when one is configured
 * (--kubelet-client-certificate / --kubelet-client-key).
 */
#ifndef API_PROXY_H
#define API_PROXY_H

#include <stdbool.h>

#include "server.h"

struct api_proxy_options {
    const char *kubelet_ca_file;   /* NULL: the kubelet's certificate is not verified */
    const char *kubelet_cert_file; /* client certificate presented to kubelets, or NULL */
    const char *kubelet_key_file;
    int kubelet_port;            /* when a Node reports none; 0: 10250 */
    unsigned connect_timeout_ms; /* 0: 30000 */
};

/* Sets the process-wide kubelet connection settings (strings copied). Call
 * once at start, before serving; without it the defaults above apply. */
void api_proxy_configure(const struct api_proxy_options *opts);

/* Handles req if its subresource is one of the forwarded ones (pods log,
 * exec, attach, portforward, proxy; nodes proxy): answers errors as
 * upstream Status objects, or forwards. Returns false for other
 * subresources (nothing done). */
bool api_proxy(struct api_req *req);

#endif
