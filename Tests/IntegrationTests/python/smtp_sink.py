#!/usr/bin/env python3
"""SMTP sink for the response tests (Python 3.11's smtpd; Debian 12): every accepted mail is
written as one JSON line (from, to, data) to LOG.

usage: smtp_sink.py PORT LOG
"""
import asyncore, json, sys, warnings
warnings.filterwarnings("ignore", category=DeprecationWarning)
import smtpd

port, log_path = int(sys.argv[1]), sys.argv[2]
log = open(log_path, "a", buffering=1)


class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        log.write(json.dumps({"from": mailfrom, "to": rcpttos, "data": text}) + "\n")
        log.flush()
        return None


Sink(("127.0.0.1", port), None, decode_data=False)
print("listening", flush=True)
asyncore.loop()
