#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Maps one port with GUPnP-IGD, GNOME's UPnP IGD client library (what
applications built on GLib embed), discovering the router over SSDP as they
do. Prints "mapped EXTERNAL_IP:EXTERNAL_PORT" or "error MESSAGE", holds the
mapping HOLD seconds (the library renews it), removes it, and exits.

usage: gupnp_igd_map.py TCP|UDP EXTERNAL_PORT LOCAL_IP LOCAL_PORT HOLD DESCRIPTION
"""
import sys

import gi

gi.require_version("GUPnPIgd", "1.0")
from gi.repository import GLib, GUPnPIgd  # noqa: E402

TIMEOUT_S = 15  # discovery and the mapping, bounded


def main(argv):
    if len(argv) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    proto, external, local_ip, local_port, hold, description = argv[1:]
    loop = GLib.MainLoop()
    igd = GUPnPIgd.SimpleIgd()
    outcome = {"rc": 1}

    def finish():
        igd.remove_port(proto, int(external))
        # the removal is a SOAP call of its own: give it a moment
        GLib.timeout_add(1000, loop.quit)
        return False

    def mapped(_igd, _proto, external_ip, _replaces, external_port, *_rest):
        # GUPnP-IGD maps on every IGD it finds: portleased's IGD:2 and the
        # IGD:1 beside it both answer (one lease behind both): once is news.
        if outcome["rc"] == 0:
            return
        print("mapped %s:%d" % (external_ip, external_port), flush=True)
        outcome["rc"] = 0
        GLib.source_remove(outcome["timer"])
        GLib.timeout_add_seconds(int(hold), finish)

    def failed(_igd, error, *_rest):
        print("error %s" % error.message, flush=True)
        loop.quit()

    def gave_up():
        print("error no mapping within %d s" % TIMEOUT_S, flush=True)
        loop.quit()
        return False

    igd.connect("mapped-external-port", mapped)
    igd.connect("error-mapping-port", failed)
    igd.add_port(proto, int(external), local_ip, int(local_port), 600, description)
    outcome["timer"] = GLib.timeout_add_seconds(TIMEOUT_S, gave_up)
    loop.run()
    return outcome["rc"]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
