#!/usr/bin/python3
# Managed by bootstrap (barclamp nova): the computes as nova and placement see them — a cloud health check.
#   bootstrap-nova-health --computes cmp1,cmp2 [--maintenance cmp3]   (. /root/admin-openrc first)
# One request per kind: nova's compute services, placement's resource providers. Per compute that is not in
# maintenance, a finding (JSON line, see bootstrap_openstack.py) when its nova-compute is missing, disabled or
# down, or placement has no resource provider for it (the scheduler could not place a server there).
import argparse
import sys

sys.path.insert(0, '/usr/local/lib/bootstrap')
from bootstrap_openstack import Findings, admin_session, host_matches, names, run  # noqa: E402

NOVA = {'service_type': 'compute', 'interface': 'internal'}
PLACEMENT = {'service_type': 'placement', 'interface': 'internal'}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--computes', required=True)
    parser.add_argument('--maintenance', default='')
    args = parser.parse_args()
    api = admin_session()
    services = api.get('/os-services?binary=nova-compute', endpoint_filter=NOVA, headers={'OpenStack-API-Version': 'compute 2.53'}).json()['services']
    providers = api.get('/resource_providers', endpoint_filter=PLACEMENT, headers={'OpenStack-API-Version': 'placement 1.14'}).json()['resource_providers']
    resting = set(names(args.maintenance))
    found = Findings()
    for node in names(args.computes):
        if node in resting:
            continue
        service = next((s for s in services if host_matches(s['host'], node)), None)
        if service is None:
            found.add(node, f'nova-compute on {node} is not registered with nova', {'nova-compute hosts': sorted(s['host'] for s in services)})
        else:
            row = {k: service.get(k) for k in ('id', 'host', 'zone', 'status', 'state', 'disabled_reason', 'forced_down', 'updated_at')}
            if service['status'] != 'enabled':
                found.add(node, f"nova-compute on {node} is disabled: {service.get('disabled_reason') or 'no reason given'}", row)
            if service['state'] != 'up':
                found.add(node, f"nova-compute on {node} is down{' (forced down)' if service.get('forced_down') else ''}: last report {service.get('updated_at') or 'never'}", row)
        if not any(host_matches(p['name'], node) for p in providers):
            found.add(node, f'placement has no resource provider for {node}', {'resource providers': sorted(p['name'] for p in providers)})
    found.exit()


run(main)
