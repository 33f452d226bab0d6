"""``python -m minigan.lab`` (also ``minigan-lab``): start the lab and open it in the browser.

    python -m minigan.lab                     # a free port on 127.0.0.1, the browser opens
    python -m minigan.lab --port 8765 --no-browser --seed 3 --out my-runs

The first line on stdout is the address, token included:

    minigan lab: http://127.0.0.1:PORT/?token=TOKEN

Ctrl-C (or SIGTERM) stops it cleanly (exit status 0). A mistake on the command line is one
line on stderr and exit status 2; a problem starting (the port taken, no GPU) one line and 1.
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import secrets
import signal
import socket
import sys
import webbrowser

DEFAULT_OUT = "minigan-lab-runs"


class Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage block) that points to --help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"got {text!r}, wanted a port from 0 to 65535 (0 picks a free one)")
    return value


def seed_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**31:
        raise argparse.ArgumentTypeError(f"got {text!r}, wanted an integer from 0 to 2147483647")
    return value


def build_parser() -> Parser:
    name = "minigan-lab" if os.path.basename(sys.argv[0] or "").startswith("minigan-lab") else "python -m minigan.lab"
    p = Parser(prog=name, allow_abbrev=False,
               description="Watch and steer minigan's Algorithm 1 live in the browser: a local page drawing the "
                           "samples, D(x), G's manifold and the gradients on the fakes, with play, pause and "
                           "one D or G step at a time.")
    p.add_argument("--port", type=port_number, default=0, help="the port (default 0: a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the address to listen on (default 127.0.0.1; another than loopback needs --allow-remote)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host other machines can reach (anyone with the token can then drive the lab)")
    p.add_argument("--backend", choices=("numpy", "cupy", "auto"), default="numpy", help="where arrays live")
    p.add_argument("--seed", type=seed_number, default=0, help="seed of the weights and every minibatch")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help=f"where 'Save run' writes its run folders (default ./{DEFAULT_OUT})")
    p.add_argument("--no-browser", action="store_true", help="print the address, do not open a browser")
    return p


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback one (127.0.0.0/8, ::1, localhost)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def own_names() -> list:
    """This machine's names and addresses, as another machine's browser may put them in its
    Host header: the host name, the fully qualified one, every address they resolve to, and
    the address this machine reaches other networks from (a UDP socket's: nothing is sent)."""
    names = {socket.gethostname(), socket.getfqdn()}
    for name in list(names):
        try:
            names |= {info[4][0].split("%")[0] for info in socket.getaddrinfo(name, None)}
        except socket.gaierror:
            pass
    for family, far in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):   # documentation ranges
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect((far, 9))
                names.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(name for name in names if name)


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:
        return exit.code
    if not is_loopback(args.host):
        if not args.allow_remote:
            print(f"{parser.prog}: error: --host {args.host}: not a loopback address, so other machines could "
                  f"reach the lab; pass --allow-remote to allow that (see {parser.prog} --help)", file=sys.stderr)
            return 2
        print(f"{parser.prog}: warning: listening on {args.host}: anyone who can reach it and has the token can "
              f"drive this lab and save runs into {args.out}; the token travels unencrypted (http), so use this "
              f"on a network you trust (see docs/lab.md)", file=sys.stderr)
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        print(f"{parser.prog}: error: --out {args.out}: a file, wanted a folder for the saved runs", file=sys.stderr)
        return 2
    try:
        return asyncio.run(serve(args, parser.prog))
    except KeyboardInterrupt:                        # Ctrl-C while starting, before the lab listens for it
        print(f"{parser.prog}: stopped", file=sys.stderr)
        return 0
    except ImportError as error:
        print(f"{parser.prog}: error: {error}; the lab needs aiohttp: pip install -e \".[lab]\"", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 1


async def serve(args, prog: str) -> int:
    from aiohttp import web

    from minigan.backend import BackendUnavailable, get_backend
    from minigan.lab.server import LabServer
    from minigan.lab.settings import LabSettings
    from minigan.lab.worker import Lab

    try:
        backend = get_backend(args.backend).name
    except BackendUnavailable as error:
        print(f"{prog}: error: {error} (here: --backend numpy)", file=sys.stderr)
        return 1
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    except OSError as error:
        sock.close()
        print(f"{prog}: error: cannot listen on {args.host}:{args.port} ({error.strerror}); pass another --port, "
              f"or --port 0 for a free one", file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    hosts = [f"{shown}:{port}", f"localhost:{port}"] + ([f"127.0.0.1:{port}"] if family == socket.AF_INET else [])
    if args.allow_remote:                            # other machines name this one by its names and addresses
        hosts += [f"[{name}]:{port}" if ":" in name else f"{name}:{port}" for name in own_names()]
    token = secrets.token_urlsafe(32)
    lab = Lab(LabSettings(seed=args.seed, backend=backend), publish=lambda message: None, out=os.path.abspath(args.out))
    server = LabServer(lab, token, hosts)
    server.loop = asyncio.get_running_loop()
    lab.publish = server.publish
    runner = web.AppRunner(server.app, handle_signals=False, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):   # from here on Ctrl-C ends the wait below
        server.loop.add_signal_handler(signum, stop.set)
    url = f"http://{shown}:{port}/?token={token}"
    print(f"minigan lab: {url}", flush=True)
    print(f"{prog}: serving minigan's Algorithm 1 on {backend}; saved runs go to {args.out}; Ctrl-C stops",
          file=sys.stderr, flush=True)
    lab.start()
    if not args.no_browser:
        webbrowser.open(url)
    try:
        await stop.wait()
    finally:
        for ws in list(server.clients):
            await ws.close()
        await runner.cleanup()
        lab.stop()
    print(f"{prog}: stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
