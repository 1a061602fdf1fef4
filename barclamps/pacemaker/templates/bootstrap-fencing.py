#!/usr/bin/python3
# Managed by bootstrap (barclamp pacemaker): brings the cluster's fence devices to /etc/bootstrap/fencing.json.
#   bootstrap-fencing          create or update them (idempotent; every member may run it)
#   bootstrap-fencing --check  exit 0 when the CIB already holds exactly them, else say what differs on stderr
#
# Per member N: a group fence-N-group holding the stonith primitive fence-N (external/ipmi from cluster-glue) that
# powers N through its BMC, kept off N itself. The group is not decoration: masakari's host monitor finds the BMC
# of a lost member only in an external/ipmi primitive inside a <group> whose hostname parameter names it.
# The XML goes to cibadmin on stdin: the BMC password never appears on a command line here.
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

DESIRED = '/etc/bootstrap/fencing.json'


def cib(scope):
    out = subprocess.run(['cibadmin', '--query', '--scope', scope], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        sys.exit(f'cibadmin cannot read the CIB ({scope}): {out.stderr.strip()}')
    return ET.fromstring(out.stdout)


def params_of(member, device):
    return {
        'hostname': member['name'],
        'ipaddr': member['ipaddr'],
        'userid': member['userid'],
        'passwd': member['passwd'],
        # the host monitor builds its ipmitool command from this value alone (split on spaces): cipher suite
        # and privilege level travel in it; external/ipmi expands it unquoted the same way
        'interface': device['interface'],
        'passwd_method': 'env',
    }


def group_xml(member, device):
    name = member['name']
    group = ET.Element('group', id=f'fence-{name}-group')
    primitive = ET.SubElement(group, 'primitive', id=f'fence-{name}', attrib={'class': 'stonith', 'type': 'external/ipmi'})
    attrs = ET.SubElement(primitive, 'instance_attributes', id=f'fence-{name}-params')
    for key, value in params_of(member, device).items():
        ET.SubElement(attrs, 'nvpair', id=f'fence-{name}-{key}', name=key, value=value)
    ops = ET.SubElement(primitive, 'operations')
    ET.SubElement(ops, 'op', id=f'fence-{name}-monitor', name='monitor', interval=f"{device['monitor_interval']}s")
    return group


def location_xml(member):
    name = member['name']
    return ET.Element('rsc_location', id=f'fence-{name}-avoids-{name}', rsc=f'fence-{name}-group', node=name, score='-INFINITY')


def stale_groups(resources, desired):
    """Ids of fence groups in the CIB for nodes that are no longer members."""
    wanted = {f"fence-{m['name']}-group" for m in desired['members']}
    ids = (g.get('id', '') for g in resources.findall('group'))
    return [gid for gid in ids if gid.startswith('fence-') and gid.endswith('-group') and gid not in wanted]


def differences(desired):
    problems = []
    resources = cib('resources')
    constraints = cib('constraints')
    for member in desired['members']:
        name = member['name']
        group = resources.find(f"group[@id='fence-{name}-group']")
        primitive = None if group is None else group.find(f"primitive[@id='fence-{name}']")
        if primitive is None or primitive.get('type') != 'external/ipmi':
            problems.append(f'no external/ipmi fence device for {name}')
            continue
        have = {nv.get('name'): nv.get('value') for nv in primitive.iter('nvpair') if nv.get('id', '').startswith(f'fence-{name}-') and not nv.get('id', '').endswith('-monitor')}
        for key, value in params_of(member, desired['device']).items():
            if have.get(key) != value:
                problems.append(f'fence-{name}: parameter {key} differs' + ('' if key == 'passwd' else f" ({have.get(key)!r}, want {value!r})"))
        op = primitive.find(f"operations/op[@id='fence-{name}-monitor']")
        if op is None or op.get('interval') != f"{desired['device']['monitor_interval']}s":
            problems.append(f'fence-{name}: monitor interval differs')
        if constraints.find(f"rsc_location[@id='fence-{name}-avoids-{name}']") is None:
            problems.append(f'fence-{name} may run on {name} itself')
    for gid in stale_groups(resources, desired):
        problems.append(f'{gid} fences a node that is no longer a member')
    return problems


def cibadmin(args, element):
    out = subprocess.run(['cibadmin', *args, '--xml-pipe'], input=ET.tostring(element, encoding='unicode'), capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        sys.exit(f"cibadmin {' '.join(args)} failed: {out.stderr.strip()}")


def converge(desired):
    resources = cib('resources')
    for member in desired['members']:
        gid = f"fence-{member['name']}-group"
        # a replaced group drops parameters this script no longer sets; a new one is created
        exists = resources.find(f"group[@id='{gid}']") is not None
        cibadmin(['--replace' if exists else '--create', '--scope', 'resources'], group_xml(member, desired['device']))
        cibadmin(['--modify', '--allow-create', '--scope', 'constraints'], location_xml(member))
    for gid in stale_groups(resources, desired):
        name = gid[len('fence-'):-len('-group')]
        cibadmin(['--delete', '--scope', 'constraints'], ET.Element('rsc_location', id=f'fence-{name}-avoids-{name}'))
        cibadmin(['--delete', '--scope', 'resources'], ET.Element('group', id=gid))


def main():
    with open(DESIRED) as f:
        desired = json.load(f)
    if sys.argv[1:] == ['--check']:
        problems = differences(desired)
        for p in problems:
            print(p, file=sys.stderr)
        sys.exit(1 if problems else 0)
    converge(desired)
    problems = differences(desired)
    if problems:
        sys.exit('fence devices still differ after the update: ' + '; '.join(problems))


main()
