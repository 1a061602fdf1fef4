#!/usr/bin/python3
# Managed by bootstrap (barclamp masakari): every masakari notification with its recovery, as JSON on stdout
# (what `bootstrap recoveries` records, one failure record per recovery). Read-only.
#   bootstrap-masakari-notifications      (needs the admin credentials: . /root/admin-openrc)
#
# Per notification: id, type, host, status, payload, generated/created/updated times, and the recovery workflow
# (microversion 1.1: each task with its timestamped messages); for an instance, nova's actions on the server.
import json
import sys

sys.path.insert(0, '/usr/local/lib/bootstrap')
from bootstrap_openstack import admin_session, run  # noqa: E402

MASAKARI = {'service_type': 'instance-ha', 'interface': 'internal'}
NOVA = {'service_type': 'compute', 'interface': 'internal'}
WORKFLOW = {'OpenStack-API-Version': 'instance-ha 1.1'}


def main():
    api = admin_session()
    hosts = {}
    for segment in api.get('/segments', endpoint_filter=MASAKARI).json()['segments']:
        for host in api.get(f"/segments/{segment['uuid']}/hosts", endpoint_filter=MASAKARI).json()['hosts']:
            hosts[host['uuid']] = host['name']
    out = []
    for listed in api.get('/notifications', endpoint_filter=MASAKARI).json()['notifications']:
        # masakari 14 answers 500 for the workflow of a notification whose segment host is gone (deleted and
        # registered again: HostNotFound): the notification as listed, without its workflow, rather than nothing
        detail = api.get(f"/notifications/{listed['notification_uuid']}", endpoint_filter=MASAKARI, headers=WORKFLOW, raise_exc=False)
        n = detail.json()['notification'] if detail.ok else listed
        item = {
            'id': n['notification_uuid'],
            'type': n['type'],
            'host': hosts.get(n.get('source_host_uuid'), n.get('source_host_uuid')),
            'status': n['status'],
            'payload': n.get('payload') or {},
            'generated': n.get('generated_time'),
            'created': n.get('created_at'),
            'updated': n.get('updated_at'),
            'workflow': [{'task': t.get('name'), 'state': t.get('state'), 'messages': [{'time': p.get('timestamp'), 'message': p.get('message')} for p in t.get('progress_details') or []]}
                         for t in n.get('recovery_workflow_details') or []],
        }
        server = item['payload'].get('instance_uuid')
        if server:
            actions = api.get(f'/servers/{server}/os-instance-actions', endpoint_filter=NOVA, raise_exc=False)
            item['server_actions'] = [{'action': a['action'], 'start': a['start_time'], 'request': a['request_id']} for a in actions.json().get('instanceActions', [])] if actions.ok else []
        out.append(item)
    json.dump(sorted(out, key=lambda i: (i['created'] or '', i['id'])), sys.stdout)


run(main)
