#!/usr/bin/python3
# Managed by bootstrap (barclamp pacemaker): the cluster as this member's pacemaker sees it — a cloud health check.
#   bootstrap-cluster-health [--maintenance NODE,…]
# One read: crm_mon -1 -X. A finding (JSON line, same format as bootstrap_openstack.py's) for each member that
# is offline (not in maintenance in the inventory), each resource pacemaker marks failed, and each failed
# operation it keeps in its history (until `crm_resource --cleanup`): a failed fence device or resource means a
# failure of its node would not be handled.
import argparse
import json
import subprocess
import sys
from xml.etree import ElementTree as ET


def add(node, problem, evidence):
    print(json.dumps({'node': node, 'problem': problem, 'evidence': evidence}, sort_keys=True), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--maintenance', default='')
    args = parser.parse_args()
    resting = {n for n in args.maintenance.split(',') if n}
    try:
        out = subprocess.run(['crm_mon', '-1', '-X'], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        sys.exit('crm_mon cannot read the cluster status (no answer within 20 s)')
    if out.returncode != 0:
        sys.exit(f'crm_mon cannot read the cluster status (pacemaker not running or no CIB yet): {out.stderr.strip()}')
    status = ET.fromstring(out.stdout)
    count = 0
    for member in status.iter('node'):
        # nodes appear again under each resource (where it runs): members are the <nodes> list's
        if member.get('type') != 'member' or member.get('online') is None:
            continue
        name = member.get('name')
        if member.get('online') != 'true' and name not in resting:
            add(name, f'pacemaker member {name} is offline', dict(member.attrib))
            count += 1
    for resource in status.iter('resource'):
        if resource.get('failed') == 'true':
            where = [n.get('name') for n in resource.iter('node')] or ['?']
            for name in where:
                add(name, f"pacemaker resource {resource.get('id')} failed on {name}", dict(resource.attrib))
                count += 1
    for failure in status.iter('failure'):
        name = failure.get('node') or '?'
        add(name, f"pacemaker resource operation {failure.get('op_key')} failed on {name}: {failure.get('exitreason') or failure.get('exitstatus')}", dict(failure.attrib))
        count += 1
    sys.exit(1 if count else 0)


main()
