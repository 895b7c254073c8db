"""A real registry on loopback for the image tests, and an auth proxy in front of it.

    def test_x(registry, auth_proxy):
        registry.domain                       # "127.0.0.1:<port>", plain HTTP, no auth
        digest = registry.put_blob("repo", b"data")
        registry.put_manifest("repo", "v1", body_bytes, media_type)
        p = auth_proxy(auth="bearer", users={"alice": "s3cret"})
        p.domain                              # the same content, behind a token server
        p.inject(2, 503)                      # the next 2 registry requests fail first
        p.redirect_blobs = True               # blob GETs: 307 to a second listener
        p.blob_requests                       # what that listener received (headers)

`registry` is Debian's docker-registry (the CNCF distribution) serving a temporary
directory on 127.0.0.1 and a free port; it is stopped and its storage removed at the
end of the test, even when the test fails. `auth_proxy(...)` starts an HTTP server on
127.0.0.1 that forwards to it and adds what a bare registry does not do:

- auth="bearer": a WWW-Authenticate Bearer challenge (realm, service, scope) and a
  token endpoint (/token on the proxy) that checks basic credentials when `users`
  is set (anonymous tokens are then pull-only), answers {"token": ...}; tokens are
  checked against the repository and action of each request. `expire_tokens()`
  revokes every token handed out, as a token's expiry would.
- auth="basic": Basic credentials on every request.
- inject(n, status, retry_after=None): the next n registry requests get that status
  (with Docker's JSON error body) instead of being forwarded.
- redirect_blobs: blob GETs answered with a 307 to a second loopback listener that
  serves the blob; `blob_requests` records the headers it received.
- tamper_blobs / tamper_manifests: blob / manifest GET bodies come back with one
  byte changed.
- revoke_tokens_after = n: every token is revoked after n more authorized requests.
- cut_blob_after = n: the next blob GET is cut off after n bytes (a broken connection).
- paginate_tags: tags/list pages with ?n= and ?last= and a Link header, as the
  OCI distribution spec says (Debian's distribution 2.8 returns every tag at once).

`requests` lists every request the proxy received: (method, path, headers).
"""

import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

import pytest

REGISTRY_BIN = "/usr/bin/docker-registry"
START_TIMEOUT = 15

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    """docker-registry on 127.0.0.1:<free port>, storage in a temporary directory."""

    READY_STATUS = 200  # of GET /v2/ once it serves

    def extra_config(self):
        """More sections of its config.yml (a subclass's)."""
        return ""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vessel-registry-")
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.dir, "registry.log")

    @property
    def domain(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "http://" + self.domain

    def start(self):
        # The free port may be taken between finding and binding it: try again.
        for _ in range(5):
            self.port = free_port()
            config = os.path.join(self.dir, "config.yml")
            with open(config, "w") as f:
                f.write(
                    "version: 0.1\n"
                    "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
                    "storage:\n  filesystem:\n    rootdirectory: %s\n"
                    "  delete:\n    enabled: true\n"
                    "%s"
                    "http:\n  addr: %s\n  secret: vessel-test-secret\n"
                    % (os.path.join(self.dir, "data"), self.extra_config(), self.domain))
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen([REGISTRY_BIN, "serve", config],
                                             stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            if self._wait_ready():
                return self
            self._stop_proc()
        raise RuntimeError("docker-registry did not start:\n" + self.log())

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                status, _, _ = self.request("GET", "/v2/")
                if status == self.READY_STATUS:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _stop_proc(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        self._stop_proc()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # Direct HTTP to the registry: the tests' independent way to put and check
    # content, not the client under test.

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def put_blob(self, repo, data):
        digest = sha256(data)
        status, headers, body = self.request("POST", "/v2/%s/blobs/uploads/" % repo)
        assert status == 202, (status, body)
        loc = urllib.parse.urlsplit(headers["Location"])
        sep = "&" if loc.query else ""
        path = "%s?%s%sdigest=%s" % (loc.path, loc.query, sep, urllib.parse.quote(digest))
        status, _, body = self.request("PUT", path, body=data,
                                       headers={"Content-Type": "application/octet-stream"})
        assert status == 201, (status, body)
        return digest

    def put_manifest(self, repo, ref, body, media_type=OCI_MANIFEST):
        status, _, resp = self.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                                       headers={"Content-Type": media_type})
        assert status == 201, (status, resp)
        return sha256(body)

    def get_blob(self, repo, digest):
        status, _, body = self.request("GET", "/v2/%s/blobs/%s" % (repo, digest))
        return body if status == 200 else None

    def put_image(self, repo, tag, layers):
        """An OCI image of the given layer blobs (bytes) and a small config.
        Returns (manifest bytes, manifest digest, config digest, layer digests)."""
        config = json.dumps({"architecture": "amd64", "os": "linux",
                             "rootfs": {"type": "layers",
                                        "diff_ids": [sha256(x) for x in layers]}}).encode()
        config_digest = self.put_blob(repo, config)
        layer_digests = [self.put_blob(repo, x) for x in layers]
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": d, "size": len(x)}
                       for d, x in zip(layer_digests, layers)],
        }).encode()
        digest = self.put_manifest(repo, tag, manifest)
        return manifest, digest, config_digest, layer_digests


_BLOB_PATH = re.compile(r"^/v2/(?P<repo>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
_REPO_PATH = re.compile(r"^/v2/(?P<repo>.+)/(manifests|blobs|tags)/")
_TAGS_PATH = re.compile(r"^/v2/(?P<repo>.+)/tags/list$")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate"}


def _error_body(code, message):
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class AuthProxy:
    """An HTTP server on 127.0.0.1 in front of a Registry (see the module doc)."""

    SERVICE = "vessel-test-registry"

    def __init__(self, registry, auth=None, users=None):
        assert auth in (None, "bearer", "basic")
        self.registry = registry
        self.auth = auth
        self.users = dict(users or {})
        self.redirect_blobs = False
        self.tamper_blobs = False
        self.tamper_manifests = False
        self.revoke_tokens_after = None
        self.cut_blob_after = None
        self.paginate_tags = False
        self.requests = []
        self.blob_requests = []
        self.token_requests = []
        self.injected = 0
        self._lock = threading.Lock()
        self._failures = []
        self._tokens = {}
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.blob_server = _Server(("127.0.0.1", 0), self._blob_handler())
        self._threads = [threading.Thread(target=s.serve_forever, daemon=True)
                         for s in (self.server, self.blob_server)]
        for t in self._threads:
            t.start()

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def domain(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        return "http://" + self.domain

    def stop(self):
        for s in (self.server, self.blob_server):
            s.shutdown()
            s.server_close()
        for t in self._threads:
            t.join(timeout=10)

    def inject(self, n, status, retry_after=None):
        with self._lock:
            self._failures.extend([(status, retry_after)] * n)

    def expire_tokens(self):
        with self._lock:
            self._tokens.clear()

    def registry_requests(self, method=None, prefix="/v2/"):
        return [r for r in self.requests
                if r[1].startswith(prefix) and (method is None or r[0] == method)]

    # -- authorization --

    def _grant(self, user, scopes):
        """The actions each requested repository scope gets."""
        granted = {}
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) != 3 or parts[0] != "repository":
                continue
            actions = set(parts[2].split(","))
            # With accounts configured, anonymous users may only pull.
            if self.users and user is None:
                actions &= {"pull"}
            granted.setdefault(parts[1], set()).update(actions)
        return granted

    def _check_basic(self, header):
        """(ok, user): ok False when credentials were sent and are wrong."""
        if not header or not header.startswith("Basic "):
            return True, None
        try:
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False, None
        return self.users.get(user) == secret, user

    def _authorized(self, handler, repo, action):
        header = handler.headers.get("Authorization", "")
        if self.auth == "basic":
            ok, user = self._check_basic(header)
            return ok and user is not None
        if not header.startswith("Bearer "):
            return False
        with self._lock:
            grant = self._tokens.get(header[7:])
        if grant is None:
            return False
        with self._lock:
            if self.revoke_tokens_after is not None:
                if self.revoke_tokens_after == 0:
                    self._tokens.clear()
                    self.revoke_tokens_after = None
                    return False
                self.revoke_tokens_after -= 1
        if repo is None:
            return True
        return action in grant.get(repo, set())

    def _challenge(self, repo, action):
        if self.auth == "basic":
            return 'Basic realm="%s"' % self.SERVICE
        c = 'Bearer realm="%s/token",service="%s"' % (self.url, self.SERVICE)
        if repo is not None:
            c += ',scope="repository:%s:%s"' % (repo, "pull" if action == "pull" else "pull,push")
        return c

    def _token(self, handler):
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query)
        ok, user = self._check_basic(handler.headers.get("Authorization"))
        self.token_requests.append({"user": user, "service": query.get("service", [None])[0],
                                    "scope": query.get("scope", [])})
        if not ok or (self.users and user is None and handler.headers.get("Authorization")):
            return handler.reply(401, _error_body("UNAUTHORIZED", "incorrect username or password"),
                                 {"Content-Type": "application/json"})
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = self._grant(user, query.get("scope", []))
        body = json.dumps({"token": token, "expires_in": 300}).encode()
        return handler.reply(200, body, {"Content-Type": "application/json"})

    # -- handlers --

    def _handler(self):
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.requests.append((self.command, self.path, dict(self.headers)))
                path = urllib.parse.urlsplit(self.path).path
                if path == "/token":
                    return proxy._token(self)
                if not path.startswith("/v2/"):
                    return self.reply(404)

                m = _REPO_PATH.match(path)
                repo = m.group("repo") if m else None
                action = "pull" if self.command in ("GET", "HEAD") else "push"
                if proxy.auth and not proxy._authorized(self, repo, action):
                    return self.reply(401, _error_body("UNAUTHORIZED", "authentication required"),
                                      {"Content-Type": "application/json",
                                       "WWW-Authenticate": proxy._challenge(repo, action)})

                with proxy._lock:
                    failure = proxy._failures.pop(0) if proxy._failures else None
                if failure is not None:
                    status, retry_after = failure
                    proxy.injected += 1
                    headers = {"Content-Type": "application/json"}
                    if retry_after is not None:
                        headers["Retry-After"] = str(retry_after)
                    return self.reply(status, _error_body(
                        "TOOMANYREQUESTS" if status == 429 else "UNAVAILABLE",
                        "injected failure"), headers)

                blob = _BLOB_PATH.match(path)
                if blob and self.command == "GET" and proxy.redirect_blobs:
                    target = "http://127.0.0.1:%d/storage/%s/%s?signature=%s" % (
                        proxy.blob_server.server_address[1], blob.group("repo"),
                        blob.group("digest"), secrets.token_hex(8))
                    return self.reply(307, b"", {"Location": target})
                tags = _TAGS_PATH.match(path)
                if tags and self.command == "GET" and proxy.paginate_tags:
                    return self.tags_page(tags.group("repo"))
                self.forward(body, blob is not None and self.command == "GET")

            def forward(self, body, is_blob):
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in _HOP_BY_HOP and k.lower() != "authorization"}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.registry.port, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body if body else None,
                                 headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                out = {k: v for k, v in resp.getheaders()
                       if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"}
                if is_blob and resp.status in (200, 206):
                    if proxy.tamper_blobs and data:
                        data = data[:-1] + bytes([data[-1] ^ 0xFF])
                    with proxy._lock:
                        cut, proxy.cut_blob_after = proxy.cut_blob_after, None
                    if cut is not None and cut < len(data):
                        return self.send_cut(resp.status, out, data, cut)
                if (proxy.tamper_manifests and self.command == "GET" and resp.status == 200
                        and "/manifests/" in self.path and data):
                    data = data[:-1] + bytes([data[-1] ^ 0x01])
                if self.command == "HEAD":
                    self.send_response(resp.status)
                    for k, v in out.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", resp.getheader("Content-Length", "0"))
                    self.end_headers()
                    return
                self.reply(resp.status, data, out)

            def send_cut(self, status, headers, data, cut):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:cut])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

            def tags_page(self, repo):
                status, _, data = proxy.registry.request("GET", "/v2/%s/tags/list" % repo)
                if status != 200:
                    return self.reply(status, data, {"Content-Type": "application/json"})
                all_tags = sorted(json.loads(data).get("tags") or [])
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                last = query.get("last", [""])[0]
                n = int(query.get("n", [len(all_tags) or 1])[0])
                rest = [t for t in all_tags if t > last]
                page = rest[:n]
                headers = {"Content-Type": "application/json"}
                if len(rest) > n:
                    headers["Link"] = '</v2/%s/tags/list?n=%d&last=%s>; rel="next"' % (
                        repo, n, urllib.parse.quote(page[-1]))
                self.reply(200, json.dumps({"name": repo, "tags": page}).encode(), headers)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        return Handler

    def _blob_handler(self):
        proxy = self

        class BlobHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy.blob_requests.append({"path": self.path, "headers": dict(self.headers)})
                m = re.match(r"^/storage/(?P<repo>.+)/(?P<digest>sha256:[0-9a-f]{64})\?signature=",
                             self.path)
                data = proxy.registry.get_blob(m.group("repo"), m.group("digest")) if m else None
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return BlobHandler


@pytest.fixture
def registry():
    """A running docker-registry, empty, on 127.0.0.1: removed after the test."""
    reg = Registry()
    try:
        reg.start()
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def auth_proxy(registry):
    """auth_proxy(auth=None|"bearer"|"basic", users={...}) -> a started AuthProxy in
    front of `registry`; every proxy made is stopped after the test."""
    made = []

    def make(auth=None, users=None, upstream=None):
        p = AuthProxy(upstream or registry, auth=auth, users=users)
        made.append(p)
        return p

    try:
        yield make
    finally:
        for p in made:
            p.stop()
