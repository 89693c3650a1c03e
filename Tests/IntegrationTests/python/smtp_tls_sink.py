#!/usr/bin/env python3
"""SMTP server for the response tests that insists on STARTTLS and AUTH (aiosmtpd, Debian's
python3-aiosmtpd): every accepted mail is written as one JSON line (from, to, data, the
authenticated user and whether the session was encrypted) to LOG.

usage: smtp_tls_sink.py PORT LOG CERT KEY USER PASSWORD
"""
import asyncio, json, ssl, sys, warnings
warnings.filterwarnings("ignore")
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, log_path, cert, key, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
log = open(log_path, "a", buffering=1)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        log.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                              "data": envelope.content.decode("utf-8", "replace"),
                              "user": session.auth_data if isinstance(session.auth_data, str) else None,
                              "tls": session.ssl is not None}) + "\n")
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                        authenticator=authenticator, auth_required=True, auth_require_tls=True)
controller.start()
print("listening", flush=True)
try:
    __import__("threading").Event().wait()  # the controller serves on its own thread
finally:
    controller.stop()
