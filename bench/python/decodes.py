"""For bench/realmail.ts: whether Python 3's stdlib (mailbox + email, policy.default) decodes given mails of an
mbox. Arguments: the mbox, then 1-based mail numbers. Prints one JSON line per number:
{"n": N, "message_id": "...", "decodes": true|false, "body_chars": C, "body": "...", "error": "..."} (body: the
decoded plain text, for a second opinion on its diff)."""
import email
import email.policy
import json
import mailbox
import sys


def main(path: str, wanted: set[int]) -> None:
    box = mailbox.mbox(path, factory=lambda f: email.message_from_binary_file(f, policy=email.policy.default),
                       create=False)
    for n, msg in enumerate(box, 1):
        if n not in wanted:
            continue
        out = {"n": n, "message_id": str(msg["message-id"] or "").strip().strip("<>")}
        try:
            part = msg.get_body(preferencelist=("plain",))
            body = part.get_content() if part is not None else ""
            out["body_chars"] = len(body)
            out["body"] = body
            out["decodes"] = part is not None
        except Exception as e:  # noqa: BLE001 - any failure to decode is the answer
            out["decodes"] = False
            out["error"] = repr(e)
        print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], {int(a) for a in sys.argv[2:]})
