/*
 * Admission: what happens to an object between decoding and the store, in
 * upstream's order: per-kind preparation (status reset on create, pod phase),
 * defaults (defaults.c), the LimitRanger's defaults, validation (validate.c),
 * the LimitRanger's bounds (limitrange.c), and allocation of service IPs and
 * node ports. Returns 0 when the object may be stored, else the HTTP code
 * (422 Invalid, 403 Forbidden, 400, 500) with upstream's message in errmsg; warnings (Pod
 * Security's) go to warn.
 */
#ifndef API_ADMISSION_H
#define API_ADMISSION_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "resources.h"
#include "server.h"
#include "podsecurity.h"
#include "validate.h"

/* errs (initialised by the caller) receives the field errors of a 422. */
struct api_admit_hooks {
    /* Called once obj has its defaults and before mutating admission changes it: where
     * upstream's field manager records what the request set. Returns the object admission
     * goes on with (the hook may replace obj, which it then frees). May be NULL. */
    ProtobufCMessage *(*defaulted)(void *arg, ProtobufCMessage *obj);
    api_warn_fn warn; /* warnings for the response; may be NULL */
    void *arg;
};

int api_admit(struct api_server *srv, const struct api_resource *r, enum api_verb verb,
              const char *sub, ProtobufCMessage *obj, const ProtobufCMessage *old,
              struct api_field_errors *errs, const struct api_admit_hooks *hooks, char *errmsg,
              size_t size);

#endif
