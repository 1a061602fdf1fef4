#!/usr/bin/python3
# Managed by bootstrap (barclamp masakari): the failover segments as masakari sees them — a cloud health check.
#   bootstrap-masakari-health [--maintenance NODE,…] [--acknowledged UUID,…]   (. /root/admin-openrc first)
# Requests: the segments, each segment's hosts, the notifications. A finding (JSON line, see
# bootstrap_openstack.py) for each segment host on maintenance (it is no failover target, and its own failures
# are no longer recovered) whose node the inventory does not have in maintenance, and for each notification whose
# recovery ended in error or failed that the inventory has not acknowledged (masakari keeps them for ever).
import argparse
import sys

sys.path.insert(0, '/usr/local/lib/bootstrap')
from bootstrap_openstack import Findings, admin_session, names, run  # noqa: E402

MASAKARI = {'service_type': 'instance-ha', 'interface': 'internal'}
UNRECOVERED = ('error', 'failed')


def node_of(host_name):
    return host_name.split('.')[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--maintenance', default='')
    parser.add_argument('--acknowledged', default='')
    args = parser.parse_args()
    api = admin_session()
    resting = set(names(args.maintenance))
    acknowledged = set(names(args.acknowledged))
    found = Findings()
    hosts = {}
    for segment in api.get('/segments', endpoint_filter=MASAKARI).json()['segments']:
        for host in api.get(f"/segments/{segment['uuid']}/hosts", endpoint_filter=MASAKARI).json()['hosts']:
            hosts[host['uuid']] = host['name']
            node = node_of(host['name'])
            if host['on_maintenance'] and node not in resting:
                row = {k: host.get(k) for k in ('uuid', 'name', 'type', 'control_attributes', 'on_maintenance', 'reserved', 'updated_at')}
                found.add(node, f"masakari host {host['name']} of segment {segment['name']} is on maintenance", dict(row, segment=segment['name']))
    for n in api.get('/notifications?sort_key=created_at&sort_dir=asc', endpoint_filter=MASAKARI).json()['notifications']:
        if n['status'] not in UNRECOVERED or n['notification_uuid'] in acknowledged:
            continue
        host = hosts.get(n.get('source_host_uuid'), n.get('source_host_uuid') or '?')
        row = {k: n.get(k) for k in ('notification_uuid', 'type', 'status', 'payload', 'generated_time', 'created_at', 'updated_at')}
        found.add(node_of(host), f"masakari notification {n['notification_uuid']} ({n['type']} on {host}) is {n['status']}: its recovery did not finish", dict(row, host=host))
    found.exit()


run(main)
