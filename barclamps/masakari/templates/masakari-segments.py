#!/usr/bin/python3
# Managed by bootstrap (barclamp masakari): keeps the failover segments of /etc/bootstrap/masakari-segments.json
# registered in masakari, each with its compute hosts.
#   bootstrap-masakari-segments           register what is missing (. /root/admin-openrc first)
#   bootstrap-masakari-segments --check   exit 1 when a segment is missing or differs, or a host is not registered
#                                         (what registering would do on stderr); read-only, asks masakari only
#
# Segments and hosts already there are kept, never deleted: they may be an operator's. masakari refuses (400) a
# host nova has no nova-compute service for, and the monitors of such a host would notify into the void, so a host
# nova does not know fails the registration, naming the near miss. nova-compute registers itself a few seconds
# after it starts: a fresh compute gets NOVA_WAIT seconds to appear before it counts as unknown.
import argparse
import json
import sys
import time

sys.path.insert(0, '/usr/local/lib/bootstrap')
from bootstrap_openstack import admin_session, run  # noqa: E402

SEGMENTS_FILE = '/etc/bootstrap/masakari-segments.json'
NOVA_WAIT = 120
MASAKARI = {'service_type': 'instance-ha', 'interface': 'internal'}
NOVA = {'service_type': 'compute', 'interface': 'internal'}


def plan(desired, segments, hosts_of, nova_hosts):
    """Pure: the calls that make masakari hold the desired segments, and the hosts it would refuse.
    segments: masakari's segments; hosts_of(uuid): the names of a segment's hosts; nova_hosts: nova-compute hosts,
    or None when nova was not asked (--check: an unregistered host is something to do either way)."""
    actions, problems = [], []
    for want in desired:
        have = next((s for s in segments if s['name'] == want['name']), None)
        if have is None:
            actions.append({'do': 'create-segment', 'segment': want['name'], 'recovery_method': want['recovery_method'], 'description': want['description']})
        elif have['recovery_method'] != want['recovery_method'] or (have.get('description') or '') != want['description']:
            actions.append({'do': 'update-segment', 'segment': want['name'], 'recovery_method': want['recovery_method'], 'description': want['description']})
        registered = set(hosts_of(have['uuid'])) if have is not None else set()
        for host in want['hosts']:
            if host in registered:
                continue
            if nova_hosts is not None and host not in nova_hosts:
                problems.append(f"segment {want['name']}: {unknown_host(host, nova_hosts)}")
                continue
            actions.append({'do': 'add-host', 'segment': want['name'], 'host': host})
    return actions, problems


def unknown_host(host, nova_hosts):
    similar = next((n for n in nova_hosts if n.lower() == host.lower() or n.split('.')[0] == host or host.split('.')[0] == n), None)
    if similar is not None:
        hint = f" — nova knows '{similar}': masakari host names are case-sensitive and must equal nova's exactly"
    elif nova_hosts:
        hint = f" (nova-compute hosts: {', '.join(sorted(nova_hosts))})"
    else:
        hint = ' (nova reports no nova-compute service at all)'
    return f"host '{host}' is not a nova-compute service{hint}"


def describe(action):
    if action['do'] == 'add-host':
        return f"add host {action['host']} to segment {action['segment']}"
    verb = 'create' if action['do'] == 'create-segment' else 'update'
    return f"{verb} segment {action['segment']} (recovery_method {action['recovery_method']})"


class Masakari:
    def __init__(self, api):
        self.api = api

    def call(self, method, path, body=None):
        response = self.api.request(path, method, json=body, endpoint_filter=MASAKARI, raise_exc=False)
        if response.status_code >= 400:
            sys.exit(f'masakari answered {response.status_code} to {method} {path}: {response.text[:500]}')
        return response.json() if response.content else {}

    def segments(self):
        return self.call('GET', '/segments')['segments']

    def hosts(self, uuid):
        return [h['name'] for h in self.call('GET', f'/segments/{uuid}/hosts')['hosts']]


def nova_compute_hosts(api, wanted):
    deadline = time.monotonic() + NOVA_WAIT
    while True:
        hosts = {s['host'] for s in api.get('/os-services?binary=nova-compute', endpoint_filter=NOVA).json()['services']}
        if wanted <= hosts or time.monotonic() > deadline:
            return hosts
        time.sleep(5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--check', action='store_true')
    parser.add_argument('--file', default=SEGMENTS_FILE)
    args = parser.parse_args()
    with open(args.file) as f:
        desired = json.load(f)['segments']
    api = admin_session()
    masakari = Masakari(api)
    segments = masakari.segments()
    if args.check:
        actions, _ = plan(desired, segments, masakari.hosts, None)
        for action in actions:
            print(f'to do: {describe(action)}', file=sys.stderr)
        sys.exit(1 if actions else 0)
    nova_hosts = nova_compute_hosts(api, {h for s in desired for h in s['hosts']})
    actions, problems = plan(desired, segments, masakari.hosts, nova_hosts)
    uuids = {s['name']: s['uuid'] for s in segments}
    for action in actions:
        segment = {'recovery_method': action.get('recovery_method'), 'description': action.get('description')}
        if action['do'] == 'create-segment':
            created = masakari.call('POST', '/segments', {'segment': {'name': action['segment'], 'service_type': 'COMPUTE', **segment}})
            uuids[action['segment']] = created['segment']['uuid']
        elif action['do'] == 'update-segment':
            masakari.call('PUT', f"/segments/{uuids[action['segment']]}", {'segment': segment})
        else:
            masakari.call('POST', f"/segments/{uuids[action['segment']]}/hosts", {'host': {'name': action['host'], 'type': 'COMPUTE', 'control_attributes': 'SSH'}})
        print(json.dumps({'done': describe(action)}), flush=True)
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    run(main)
