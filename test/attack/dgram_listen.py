"""dgram_listen.py - a unix datagram listener standing in for syslog's /dev/log or for
systemd's NOTIFY_SOCKET: every datagram becomes one line of OUT; with WATCH, lines saying
READY=1 also say whether WATCH existed when it arrived.  usage: SOCKET OUT [WATCH]"""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
watch = sys.argv[3] if len(sys.argv) > 3 else None
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o666)
with open(out, "a", buffering=1) as f:
    while True:
        data = s.recv(65536).decode("utf-8", "replace").replace("\n", "\\n")
        if watch and "READY=1" in data:
            data += " watch=" + ("yes" if os.path.exists(watch) else "no")
        f.write(data + "\n")
