"""An HTTPS listener for the stub AuthOS issuer, with a self-signed certificate made per run.

    stub = AuthOSStub().start()                  # tests/integration/authos_stub.py, http://
    tls = TLSListener(stub, workdir).start()     # the same stub, also on https://127.0.0.1:PORT
    tls.base_url, tls.ca_file                    # the CA bundle to trust: the certificate itself
    tls.stop()

Requests on both listeners reach the same stub (same keys, same request record),
so stub.count(JWKS_PATH) counts fetches over http and https.  The certificate
is an ECDSA P-256 self-signed CA certificate for 127.0.0.1 and localhost, valid
for two days; its private key stays in workdir (mode 0600).
"""

import datetime
import ipaddress
import os
import socket
import ssl
import threading
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import authos_stub


def make_certificate(cert_path, key_path):
    """Write a self-signed certificate (usable as its own CA bundle) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "authos-bench stub issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=False,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    Path(cert_path).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(cert_path, 0o644)


class _TLSServer(authos_stub._StubHTTPServer):
    """The stub's server class; each accepted connection is wrapped in TLS in its own thread."""
    ssl_context = None

    def finish_request(self, request, client_address):
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            super().finish_request(conn, client_address)
        except (ssl.SSLError, ConnectionError, socket.timeout):
            pass
        finally:
            conn.close()


class TLSListener:
    def __init__(self, stub, workdir):
        self.stub = stub
        self.ca_file = str(Path(workdir) / "stub-ca.pem")
        self.key_file = str(Path(workdir) / "stub-key.pem")
        make_certificate(self.ca_file, self.key_file)
        self._server = None
        self._thread = None

    def start(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, self.key_file)
        server = _TLSServer(("127.0.0.1", 0), authos_stub._Handler)
        server.stub = self.stub
        server.ssl_context = context
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="authos-stub-tls", daemon=True)
        self._thread.start()
        self._self_test()
        return self

    @property
    def base_url(self):
        return "https://127.0.0.1:%d" % self._server.server_address[1]

    def _self_test(self):
        """Fetch the JWKS through the listener, trusting only ca_file, as the peers will."""
        context = ssl.create_default_context(cafile=self.ca_file)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=context))
        with opener.open(self.base_url + authos_stub.JWKS_PATH, timeout=10) as r:
            if r.status != 200 or b'"keys"' not in r.read():
                raise RuntimeError("TLS stub self-test failed")

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None
