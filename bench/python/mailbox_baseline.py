"""Baseline for the index benchmark: Python 3's stdlib mailbox + email (policy.default) reading, for every
message of an mbox, its subject, message-id, references and decoded plain-text body.
Prints one JSON line: {"mails": N, "bytes": B, "seconds": S, "cpu_seconds": P, "body_chars": C} (S wall time,
P the process's CPU time)."""
import email
import email.policy
import json
import mailbox
import os
import sys
import time


def main(path: str) -> None:
    started = time.perf_counter()
    cpu_started = time.process_time()
    box = mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default),
                       create=False)
    mails = 0
    body_chars = 0
    for msg in box:
        mails += 1
        _subject = msg["subject"]
        _message_id = msg["message-id"]
        _references = msg["references"]
        part = msg.get_body(preferencelist=("plain",))
        if part is not None:
            body_chars += len(part.get_content())
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print(json.dumps({"mails": mails, "bytes": os.path.getsize(path), "seconds": seconds,
                      "cpu_seconds": cpu_seconds, "body_chars": body_chars}))


if __name__ == "__main__":
    main(sys.argv[1])
