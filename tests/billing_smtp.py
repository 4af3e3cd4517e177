"""A tiny SMTP server for tests (127.0.0.1, free port): records every message it accepts."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from gevent.server import StreamServer


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    messages: list[Received] = field(default_factory=list)
    # Recipients answered "550 no such user" (a bad billing address on a good day).
    refuse: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.server = StreamServer(("127.0.0.1", 0), self._session)

    @property
    def port(self) -> int:
        return self.server.address[1]

    def start(self) -> SmtpSink:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop(timeout=1)

    def _session(self, sock, _address) -> None:
        stream = sock.makefile("rb")
        sock.sendall(b"220 sink ESMTP\r\n")
        sender, recipients = "", []
        while line := stream.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                sock.sendall(b"250 sink\r\n")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip().strip("<>"), []
                sock.sendall(b"250 OK\r\n")
            elif verb == "RCPT":
                recipient = command.split(":", 1)[1].strip().strip("<>")
                if recipient in self.refuse:
                    sock.sendall(b"550 no such user\r\n")
                    continue
                recipients.append(recipient)
                sock.sendall(b"250 OK\r\n")
            elif verb == "DATA":
                sock.sendall(b"354 go on\r\n")
                data = b""
                while (chunk := stream.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                message = message_from_bytes(data, policy=policy.default)
                self.messages.append(Received(sender, recipients, message))
                sock.sendall(b"250 queued\r\n")
            elif verb == "QUIT":
                sock.sendall(b"221 bye\r\n")
                break
            else:
                sock.sendall(b"250 OK\r\n")
        sock.close()
