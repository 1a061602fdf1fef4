#!/usr/bin/python3
# Managed by bootstrap (barclamp neutron): the agents as neutron sees them — a cloud health check.
#   bootstrap-neutron-health --expect NODE=BINARY[,BINARY…] … [--maintenance NODE,…]   (. /root/admin-openrc first)
# One request: neutron's agent list. Per expected agent on a node not in maintenance, a finding (JSON line, see
# bootstrap_openstack.py) when it is missing, not alive (no report within neutron's agent_down_time) or
# administratively down: its node's ports would not be wired, served DHCP or metadata.
import argparse
import sys

sys.path.insert(0, '/usr/local/lib/bootstrap')
from bootstrap_openstack import Findings, admin_session, host_matches, names, run  # noqa: E402

NETWORK = {'service_type': 'network', 'interface': 'internal'}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--expect', action='append', default=[])
    parser.add_argument('--maintenance', default='')
    args = parser.parse_args()
    api = admin_session()
    agents = api.get('/v2.0/agents', endpoint_filter=NETWORK).json()['agents']
    resting = set(names(args.maintenance))
    found = Findings()
    for expectation in args.expect:
        node, _, binaries = expectation.partition('=')
        if node in resting:
            continue
        for binary in names(binaries):
            agent = next((a for a in agents if a['binary'] == binary and host_matches(a['host'], node)), None)
            if agent is None:
                found.add(node, f'neutron has no {binary} on {node}', {'agents on ' + node: sorted(a['binary'] for a in agents if host_matches(a['host'], node))})
                continue
            row = {k: agent.get(k) for k in ('id', 'agent_type', 'binary', 'host', 'alive', 'admin_state_up', 'heartbeat_timestamp')}
            if not agent['alive']:
                found.add(node, f"{binary} on {node} is not alive: last heartbeat {agent.get('heartbeat_timestamp') or 'never'}", row)
            elif not agent['admin_state_up']:
                found.add(node, f'{binary} on {node} is administratively down', row)
    found.exit()


run(main)
