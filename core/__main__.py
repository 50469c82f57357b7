"""`python -m ember info`: ember's version, its backends and its plugins."""
from __future__ import annotations

import argparse
import sys


def info() -> str:
    """A report of the installation: backends (availability, devices, library) and plugins."""
    import ember
    from ember.plugins import get_plugin_manager

    pm = get_plugin_manager()
    lines = [f"ember {ember.__version__} (Python {sys.version.split()[0]})", "", "backends:"]
    registry = pm.backends
    for name, cls in sorted(registry.by_name.items()):
        ok, reason = cls.is_available()
        origin = registry.origins[name]
        if ok:
            try:
                bk = ember.device(cls.device_type).backend
                detail = f"available, {bk.device_count()} device(s), {bk.library_version()}"
            except Exception as exc:  # a backend whose library breaks at start-up is reported, not fatal
                detail = f"unavailable: {type(exc).__name__}: {exc}"
        else:
            detail = f"unavailable: {reason}"
        lines.append(f"  {name:<10} device type '{cls.device_type}': {detail} [from {origin.distribution}]")
    lines += ["", "plugins:"]
    for plugin, dist in pm.plugins():
        lines.append(f"  {plugin:<32} {dist}")
    for plugin, error in pm.failures.items():
        lines.append(f"  {plugin:<32} FAILED: {error}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ember", description="ember command-line tools")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="print the version, backends and plugins")
    parser.parse_args(argv)
    print(info())
    return 0


if __name__ == "__main__":
    sys.exit(main())
