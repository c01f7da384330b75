/*
 * v1 ComponentStatus, deprecated upstream since 1.19 and still served: `kubectl get cs`
 * probes the scheduler, the controller manager and every store member at request time, as
 * upstream's componentstatus REST does (the details are in componentstatus.c).
 */
#ifndef API_COMPONENTSTATUS_H
#define API_COMPONENTSTATUS_H

#include "server.h"

/* Answers a GET or LIST of componentstatuses once every probe has ended (at most 20 s). */
void api_componentstatus(struct api_req *req);

#endif
