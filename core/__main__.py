"""`ember info` / `python -m ember info`: ember's version, its backends and its plugins; `ember --version`."""
from __future__ import annotations

import argparse
import os
import sys
import warnings


def _backend_line(name: str, cls, origin) -> str:
    import ember

    try:
        ok, reason = cls.is_available()
        if ok:
            index = None if cls.device_type == "cpu" else 0
            bk = ember.device(cls.device_type, index).backend
            detail = f"available, {cls.device_count()} device(s), {bk.library_version()}"
        else:
            detail = f"unavailable: {reason}"
    except Exception as exc:  # a backend that breaks while answering is reported, never fatal
        detail = f"unavailable: {type(exc).__name__}: {exc}"
    return f"  {name:<10} device type '{cls.device_type}': {detail} [from {origin.distribution}]"


def info() -> str:
    """A report of the installation: backends (availability, devices, library) and plugins (what each
    registered, and every failure, including hooks that failed when first used)."""
    import ember
    from ember.plugins import get_plugin_manager

    pm = get_plugin_manager()
    lines = [f"ember {ember.__version__} (Python {sys.version.split()[0]})", "", "backends:"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # failures are listed below, not warned about
        problems, built = [], {}
        for what, build in (("backends", lambda: pm.backends), ("layers", lambda: pm.registry("layers")),
                            ("losses", lambda: pm.registry("losses")),
                            ("optimizers", lambda: pm.registry("optimizers"))):
            try:
                built[what] = build()
            except Exception as exc:  # EMBER_STRICT_PLUGINS=1 turns a plugin failure into an error
                problems.append(f"  registering {what} failed: {type(exc).__name__}: {exc}")
    registry = built.get("backends")
    for name, cls in sorted(registry.by_name.items()) if registry is not None else ():
        lines.append(_backend_line(name, cls, registry.origins[name]))
    lines += ["", "plugins:"]
    for plugin, dist in pm.plugins():
        provided = ", ".join(pm.registered.get(plugin, [])) or "nothing"
        lines.append(f"  {plugin:<32} {dist}: {provided}")
    for plugin, error in pm.failures.items():
        lines.append(f"  {plugin:<32} FAILED: {error}")
    return "\n".join(lines + problems)


def main(argv=None) -> int:
    """The `ember` command line."""
    import ember

    prog = "ember" if os.path.basename(sys.argv[0]) == "ember" else "python -m ember"
    parser = argparse.ArgumentParser(prog=prog, description="ember command-line tools")
    parser.add_argument("--version", action="version", version=f"ember {ember.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="print the version, backends and plugins")
    from .models.convert import add_convert_command

    add_convert_command(sub)
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is not None:
        return args.handler(args)
    print(info())
    return 0


if __name__ == "__main__":
    sys.exit(main())
