"""Render deploy/nginx.conf.template for a set of server processes:

python deploy/render_nginx.py PREFIX LISTEN PORT [PORT ...] > PREFIX/nginx.conf
"""

import sys
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"


def render(prefix: str, listen: str, ports: list[int]) -> str:
    upstreams = "\n".join(f"        server 127.0.0.1:{port};" for port in ports)
    return Template(TEMPLATE.read_text()).safe_substitute(PREFIX=prefix, LISTEN=listen, UPSTREAMS=upstreams)


if __name__ == "__main__":
    prefix, listen, *ports = sys.argv[1:]
    sys.stdout.write(render(prefix, listen, [int(port) for port in ports]))
