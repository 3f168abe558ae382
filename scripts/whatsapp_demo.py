"""Try the WhatsApp connection without a phone: the local WhatsApp Web imitation plus a phone that scans and chats.

    .venv/bin/python -m scripts.whatsapp_demo            # then, in another terminal: make run-whatsapp-demo

Starts the imitation on http://127.0.0.1:8765/ with a few customers. The "phone" links as soon as Parley shows the
QR code for a few seconds (as if someone scanned it), then a customer writes every ``--every`` seconds, and every
message Parley sends is delivered and read a moment later. Ctrl+C stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import random
import threading
import time

from tests.whatsapp.imitation_server import ImitationConfig, ImitationControl, ImitationServer, JsonDict

CUSTOMERS = [
    ("6590000001", "Amelia Tan"),
    ("6590000002", "Ravi Kumar"),
    ("6590000003", "Sofia Rossi"),
    ("4915112345678", "Jonas Becker"),
]
LINES = [
    "Hi! Is the blue linen dress still available in size M?",
    "Can you send me the price list please?",
    "Thanks, I received the parcel today 😊",
    "Do you deliver on Saturdays?",
    "I'd like to order two more of the ceramic mugs.",
    "Is there a discount for orders above $100?",
]


def acknowledge(control: ImitationControl, state: JsonDict, done: set[str]) -> None:
    """Deliver, then read, every message the page sent that the phone has not acknowledged yet."""
    for chat in state["chats"]:
        for message in chat["messages"]:
            if message["from_me"] and message["source"] == "page" and message["id"] not in done:
                with contextlib.suppress(Exception):
                    control.ack(message["id"], 2)
                    control.ack(message["id"], 3)
                    done.add(message["id"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--every", type=float, default=45.0, help="seconds between customer messages (0: none)")
    parser.add_argument("--scan-after", type=float, default=4.0, help="seconds the QR is shown before the scan")
    args = parser.parse_args()
    rng = random.Random()
    with ImitationServer(ImitationConfig(qr_ms=20_000), port=args.port) as server:
        control = server.control()
        for phone, name in CUSTOMERS:
            control.add_chat(phone, name)
        control.incoming(CUSTOMERS[0][0], "Hello, are you open today?", CUSTOMERS[0][1])
        print(f"WhatsApp Web imitation at {server.url}/ — start Parley with PARLEY_WHATSAPP_URL={server.url}/")
        acked: set[str] = set()
        customers = itertools.cycle(CUSTOMERS)
        next_message = time.monotonic() + args.every
        qr_since: float | None = None
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                state = control.state()
                if state["session"] != "logged_in":
                    if state.get("qr", {}).get("ref"):
                        qr_since = qr_since or time.monotonic()
                        if time.monotonic() - qr_since >= args.scan_after:
                            with contextlib.suppress(Exception):
                                control.scan()
                                print("phone: scanned the QR code")
                    else:
                        qr_since = None
                else:
                    qr_since = None
                    acknowledge(control, state, acked)
                    if args.every and time.monotonic() >= next_message:
                        phone, name = next(customers)
                        control.incoming(phone, rng.choice(LINES), name)
                        next_message = time.monotonic() + args.every
                threading.Event().wait(0.5)


if __name__ == "__main__":
    main()
