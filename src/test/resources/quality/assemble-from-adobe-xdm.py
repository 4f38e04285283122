"""Assembles web-commerce-event.schema.json from a checkout of https://github.com/adobe/xdm
(run in its root: python3 assemble-from-adobe-xdm.py OUT.json; the fixture was made from commit
4a4fc5f8dd175cd81f2419b85130a6fc25053890). Inlines every $ref, flattens allOf and renames xdm:x to x
and @id to _id, as the Schema Registry's fully resolved export (xed-full) shows a schema."""
import json, glob, re, sys
byid = {}
for f in glob.glob('components/**/*.schema.json', recursive=True):
    try: d = json.load(open(f))
    except Exception: continue
    if '$id' in d: byid[d['$id']] = d
def rename(k):
    if k == '@id': return '_id'
    if k.startswith('xdm:'): return k[4:]
    return k
def lookup(ref, base):
    if ref.startswith('#'):
        doc, ptr = base, ref[1:]
    else:
        uri, _, ptr = ref.partition('#')
        doc = byid[uri]
    node = doc
    for part in [p for p in ptr.split('/') if p]:
        node = node[part]
    return node, doc
def resolve(node, base, depth=0):
    """Inline $refs and flatten allOf property groups into one object schema."""
    if isinstance(node, list): return [resolve(x, base, depth) for x in node]
    if not isinstance(node, dict): return node
    if '$ref' in node and node['$ref'].startswith('https://ns.adobe.com/xdm/common/extensible'):
        return {}
    if '$ref' in node:
        target, doc = lookup(node['$ref'], base)
        merged = resolve(target, doc, depth+1)
        extra = {k: v for k, v in node.items() if k != '$ref'}
        merged = dict(merged); merged.update(resolve(extra, base, depth))
        return merged
    out = {}
    for k, v in node.items():
        if k in ('$id', '$schema', 'meta:license', 'definitions', 'meta:extends', 'meta:intendedToExtend'):
            continue
        if k == 'allOf':
            for part in v:
                r = resolve(part, base, depth+1)
                for pk, pv in r.items():
                    if pk == 'properties':
                        out.setdefault('properties', {}).update(pv)
                    elif pk == 'required':
                        out['required'] = sorted(set(out.get('required', [])) | set(pv))
                    elif pk not in out:
                        out[pk] = pv
            continue
        if k == 'properties':
            out.setdefault('properties', {}).update({rename(pk): resolve(pv, base, depth+1) for pk, pv in v.items()})
        elif k == 'required':
            out['required'] = sorted(set(out.get('required', [])) | {rename(x) for x in v})
        else:
            out[k] = resolve(v, base, depth+1)
    if 'properties' in out and 'type' not in out: out['type'] = 'object'
    return out
parts = ['https://ns.adobe.com/xdm/context/experienceevent',
         'https://ns.adobe.com/xdm/context/experienceevent-web',
         'https://ns.adobe.com/xdm/context/experienceevent-commerce',
         'https://ns.adobe.com/xdm/context/experienceevent-environment-details']
schema = {
 '$id': 'https://ns.adobe.com/xdmedge/schemas/web-commerce-event',
 '$schema': 'http://json-schema.org/draft-06/schema#',
 'title': 'Web and commerce event',
 'type': 'object',
 'description': 'An XDM ExperienceEvent with the Web Details, Commerce Details and Environment Details field groups, resolved into one schema the way the Schema Registry exports it (Accept: application/vnd.adobe.xed-full+json).',
 'meta:class': 'https://ns.adobe.com/xdm/context/experienceevent',
 'meta:extends': parts,
 'meta:xdmType': 'object',
 'properties': {}, 'required': []}
for p in parts:
    r = resolve({'$ref': p}, None)
    schema['properties'].update(r.get('properties', {}))
    schema['required'] = sorted(set(schema['required']) | set(r.get('required', [])))
# A tenant field group, as an organization's own fields appear in an export.
schema['properties']['_acme'] = {"type": "object", "title": "ACME tenant fields", "meta:xdmType": "object", "properties": {
    "campaign": {"type": "string", "title": "Campaign", "meta:xdmType": "string"},
    "loyaltyMember": {"type": "boolean", "title": "Loyalty member", "meta:xdmType": "boolean"},
    "visitedAt": {"type": "string", "format": "date-time", "title": "Visited at", "meta:xdmType": "date-time"},
    "landingPage": {"type": "string", "format": "uri", "title": "Landing page", "meta:xdmType": "string"}}}
schema['meta:extends'].append('https://ns.adobe.com/acme/mixins/campaign')
json.dump(schema, open(sys.argv[1], 'w'), indent=1)
