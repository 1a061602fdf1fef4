#!/usr/bin/python3
# Managed by bootstrap (barclamp masakari): puts compute hosts that masakari took out of service back into it,
# once they are really back.
#   bootstrap-return-to-service [--maintenance NODE,…]          repair (. /root/admin-openrc first)
#   bootstrap-return-to-service --check [--maintenance NODE,…]  exit 1 when a host is back but still out of service
#                                        (what repair would do on stderr); a host still down is reported, not repaired
#
# After a host or process failure masakari 14 leaves the host's nova-compute disabled ("Masakari detected …") and
# its segment host on maintenance, and never undoes either. A host is back when pacemaker counts it online again
# (where this node sees no cluster: when its nova-compute heartbeats); the repair then waits for its nova-compute
# to report up before enabling it. Only services masakari disabled are enabled again: one an operator disabled
# (any other reason) stays as it is, and so does every host of a node the inventory has in maintenance.
import argparse
import json
import subprocess
import sys
import time
from xml.etree import ElementTree as ET

sys.path.insert(0, '/usr/local/lib/bootstrap')
from bootstrap_openstack import admin_session, names, run  # noqa: E402

MASAKARI_REASON = 'Masakari detected'
SERVICE_UP_WAIT = 180
NOVA_VERSION = {'OpenStack-API-Version': 'compute 2.53'}


def cluster_online():
    """Names of online pacemaker members, or None where this node cannot see a cluster."""
    try:
        out = subprocess.run(['crm_mon', '-1', '-X'], capture_output=True, text=True, timeout=20)
    except FileNotFoundError:
        return None
    if out.returncode != 0:
        return None
    return {n.get('name') for n in ET.fromstring(out.stdout).iter('node') if n.get('online') == 'true'}


def findings(api, resting):
    nova = {'service_type': 'compute', 'interface': 'internal'}
    masakari = {'service_type': 'instance-ha', 'interface': 'internal'}
    services = api.get('/os-services?binary=nova-compute', endpoint_filter=nova, headers=NOVA_VERSION).json()['services']
    by_host = {s['host']: s for s in services}
    online = cluster_online()
    repairs, down = [], []
    for segment in api.get('/segments', endpoint_filter=masakari).json()['segments']:
        for host in api.get(f"/segments/{segment['uuid']}/hosts", endpoint_filter=masakari).json()['hosts']:
            name = host['name']
            if name.split('.')[0] in resting:
                continue
            service = by_host.get(name)
            masakari_disabled = service is not None and service['status'] == 'disabled' and (service.get('disabled_reason') or '').startswith(MASAKARI_REASON)
            if not (masakari_disabled or host['on_maintenance']):
                continue
            back = name in online if online is not None else service is not None and service['state'] == 'up'
            if service is None or not back:
                down.append(f"{name}: out of service and not back yet ({'nova knows no nova-compute there' if service is None else 'not online in the cluster' if online is not None else 'nova-compute ' + service['state']})")
                continue
            if masakari_disabled:
                repairs.append(('enable nova-compute', name, lambda s=service: enable(api, nova, s)))
            if host['on_maintenance']:
                repairs.append(('take the segment host off maintenance', name, lambda seg=segment['uuid'], h=host['uuid']: api.put(f'/segments/{seg}/hosts/{h}', json={'host': {'on_maintenance': False}}, endpoint_filter=masakari)))
    return repairs, down


def enable(api, nova, service):
    # a machine that just booted rejoins the cluster before its nova-compute's first heartbeat
    deadline = time.monotonic() + SERVICE_UP_WAIT
    while api.get(f"/os-services?binary=nova-compute&host={service['host']}", endpoint_filter=nova, headers=NOVA_VERSION).json()['services'][0]['state'] != 'up':
        if time.monotonic() > deadline:
            sys.exit(f"{service['host']}: nova-compute did not report up within {SERVICE_UP_WAIT} s of the host rejoining the cluster")
        time.sleep(5)
    api.put(f"/os-services/{service['id']}", json={'status': 'enabled'}, endpoint_filter=nova, headers=NOVA_VERSION)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--check', action='store_true')
    parser.add_argument('--maintenance', default='')
    args = parser.parse_args()
    api = admin_session()
    repairs, down = findings(api, set(names(args.maintenance)))
    for line in down:
        print(line, file=sys.stderr)
    if args.check:
        for what, name, _ in repairs:
            print(f'{name} is back: {what}', file=sys.stderr)
        sys.exit(1 if repairs else 0)
    for what, name, do in repairs:
        do()
        print(json.dumps({'host': name, 'done': what}))


run(main)
