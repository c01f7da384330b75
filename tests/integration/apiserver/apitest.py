"""Shared by the API server test scripts: an HTTPS client holding the test
PKI's admin client certificate (PKI_DIR from make_certs), and check()."""
import json
import ssl
import urllib.request


class Api:
    def __init__(self, addr, pki):
        self.ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
        self.ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
        self.base = "https://" + addr

    def call(self, method, path, body=None, ctype="application/json"):
        """One request with a JSON (or ctype) body; the decoded JSON answer."""
        req = urllib.request.Request(self.base + path,
                                     data=json.dumps(body).encode() if body else None,
                                     method=method)
        if body is not None:
            req.add_header("Content-Type", ctype)
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return json.loads(r.read())


def check(name, cond, detail=""):
    if not cond:
        raise SystemExit("FAIL: %s %s" % (name, detail))
    print("ok:", name)
