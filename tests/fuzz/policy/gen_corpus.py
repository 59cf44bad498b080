#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_policy: policy JSON, NUL, requests.
Usage: tests/fuzz/policy/gen_corpus.py [outdir]  (default: the corpus/ beside it)"""
import json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'corpus')
fixtures = os.path.join(here, '..', '..', 'control', 'fixtures')
os.makedirs(out, exist_ok=True)

def req(flags, method, host, path, query, hdrs=()):
    f = bytes([flags])
    parts = [f, method.encode(), host.encode(), path.encode(), query.encode(),
             b'\x02'.join(f'{n}:{v}'.encode() for n, v in hdrs)]
    return b'\x01'.join(parts)

def seed(name, policy, reqs):
    js = json.dumps(policy, separators=(',', ':')).encode()
    with open(os.path.join(out, name), 'wb') as fh:
        fh.write(js + b'\x00' + b'\x03'.join(reqs))

def sw_pool(p):
    return {'action': 'HTTP_SWITCHING_SELECT_POOL', 'pool_ref': f'/api/pool?name={p}'}

common = [
    req(0, 'GET', 'hackazon.avi.iberia.local', '/index.php', 'a=1'),
    req(9, 'POST', 'api.example.com:8443', '/api/v2/items/42', 'id=7&debug=1',
        [('Cookie', 'sid=abc; lang=en'), ('User-Agent', 'curl/8'), ('X-Env', 'prod')]),
    req(16, 'BREW', '', '/' + 'a' * 40 + 'b', ''),
]

for fx in ('ako_1_httppolicyset.json', 'ako_5_httppolicyset.json'):
    with open(os.path.join(fixtures, fx)) as fh:
        seed('ako_' + fx.split('_')[1], json.load(fh)['data'], common)

crit_path = ['BEGINS_WITH', 'DOES_NOT_BEGIN_WITH', 'CONTAINS', 'DOES_NOT_CONTAIN', 'ENDS_WITH',
             'DOES_NOT_END_WITH', 'EQUALS', 'DOES_NOT_EQUAL', 'REGEX_MATCH', 'REGEX_DOES_NOT_MATCH']
rules = []
for i, c in enumerate(crit_path):
    s = ['^/api/v[0-9]+/', '^/(a+)+$'] if 'REGEX' in c else ['/api', '.php']
    rules.append({'name': f'p{i}', 'index': i, 'match': {'path': {'match_criteria': c, 'match_str': s,
                  'match_case': 'SENSITIVE' if i % 2 else 'INSENSITIVE'}}, 'switching_action': sw_pool(f'p{i}')})
seed('path_criteria', {'name': 'paths', 'http_request_policy': {'rules': rules}}, common)

hdr_crit = ['HDR_EXISTS', 'HDR_DOES_NOT_EXIST', 'HDR_BEGINS_WITH', 'HDR_DOES_NOT_BEGIN_WITH', 'HDR_CONTAINS',
            'HDR_DOES_NOT_CONTAIN', 'HDR_ENDS_WITH', 'HDR_DOES_NOT_END_WITH', 'HDR_EQUALS', 'HDR_DOES_NOT_EQUAL']
rules = []
for i, c in enumerate(hdr_crit):
    m = {'host_hdr': {'match_criteria': c, 'value': ['api.example.com']},
         'hdrs': [{'hdr': 'X-Env', 'match_criteria': c, 'value': ['prod']}],
         'cookie': {'name': 'sid', 'match_criteria': c, 'value': 'abc'}}
    rules.append({'name': f'h{i}', 'index': 100 - i, 'match': m,
                  'hdr_action': [{'action': 'HTTP_ADD_HDR', 'hdr': {'name': f'X-H{i}', 'value': {'val': 'v'}}}]})
rules.append({'name': 'local', 'index': 200, 'match': {'method': {'match_criteria': 'IS_NOT_IN', 'methods': ['HTTP_METHOD_GET']}},
              'switching_action': {'action': 'HTTP_SWITCHING_SELECT_LOCAL', 'status_code': 'HTTP_LOCAL_RESPONSE_STATUS_CODE_403',
                                   'file': {'content_type': 'text/plain', 'file_content': 'no'}}})
seed('hdr_criteria', {'name': 'hdrs', 'http_request_policy': {'rules': rules},
                      'http_response_policy': {'rules': [{'name': 'rs', 'index': 0, 'match': {'protocol': {'match_criteria': 'IS_IN', 'protocols': 'HTTPS'}},
                                                          'hdr_action': [{'action': 'HTTP_REMOVE_HDR', 'hdr': {'name': 'Server'}}]}]}}, common)

q = ['QUERY_MATCH_CONTAINS', 'QUERY_MATCH_EXISTS', 'QUERY_MATCH_DOES_NOT_EQUAL', 'QUERY_MATCH_REGEX_MATCH']
rules = [{'name': f'q{i}', 'index': i, 'enable': i != 2, 'match': {'query': {'match_criteria': c, 'match_str': ['debug=1', 'id=[0-9]+']},
          'vs_port': {'match_criteria': 'IS_IN', 'ports': [80, 8443]}}, 'switching_action':
          {'action': 'HTTP_SWITCHING_SELECT_POOLGROUP', 'pool_group_ref': f'/api/poolgroup/poolgroup-{i}'}} for i, c in enumerate(q)]
seed('query_criteria', {'name': 'q', 'http_request_policy': {'rules': rules}}, common)

# every QUERY_MATCH_* criterion, and cookies named by Avi's key
q_all = ['QUERY_MATCH_CONTAINS', 'QUERY_MATCH_DOES_NOT_CONTAIN', 'QUERY_MATCH_EXISTS', 'QUERY_MATCH_DOES_NOT_EXIST',
         'QUERY_MATCH_BEGINS_WITH', 'QUERY_MATCH_DOES_NOT_BEGIN_WITH', 'QUERY_MATCH_ENDS_WITH',
         'QUERY_MATCH_DOES_NOT_END_WITH', 'QUERY_MATCH_EQUALS', 'QUERY_MATCH_DOES_NOT_EQUAL', 'QUERY_MATCH_REGEX_MATCH',
         'QUERY_MATCH_REGEX_DOES_NOT_MATCH']
rules = [{'name': f'qa{i}', 'index': i, 'match': {'query': {'match_criteria': c, 'match_str': ['id=7', '^a=[0-9]$'],
          'match_case': 'SENSITIVE' if i % 2 else 'INSENSITIVE'},
          'cookie': {'key': 'lang', 'match_criteria': hdr_crit[i % len(hdr_crit)], 'value': 'en'}},
          'switching_action': sw_pool(f'qa{i}')} for i, c in enumerate(q_all)]
seed('query_all_cookie_key', {'name': 'qa', 'http_request_policy': {'rules': rules}}, common)

tok = {'type': 'URI_PARAM_TYPE_TOKENIZED'}
redirects = [
    {'protocol': 'HTTPS'},
    {'protocol': 'HTTPS', 'port': 8443, 'keep_query': False, 'status_code': 'HTTP_REDIRECT_STATUS_CODE_301'},
    {'protocol': 'HTTP', 'host': dict(tok, tokens=[{'type': 'URI_TOKEN_TYPE_STRING', 'str_value': 'm.'},
                                                   {'type': 'URI_TOKEN_TYPE_HOST', 'start_index': 1, 'end_index': 65535}]),
     'path': dict(tok, tokens=[{'type': 'URI_TOKEN_TYPE_STRING', 'str_value': 'new/'},
                               {'type': 'URI_TOKEN_TYPE_PATH', 'start_index': 1}]),
     'status_code': 'HTTP_REDIRECT_STATUS_CODE_307'},
]
rules = [{'name': f'r{i}', 'index': i, 'match': {'vs_port': {'match_criteria': 'IS_IN', 'ports': [p]}}, 'redirect_action': r}
         for i, (r, p) in enumerate(zip(redirects, [80, 8443, 443]))]
seed('redirects', {'name': 'r', 'http_request_policy': {'rules': rules}}, common + [req(2, 'GET', 'a.b.c.d', '/x/y/z', 'k')])

# Refusals: the compiler's error paths.
seed('bad_regex', {'name': 'b', 'http_request_policy': {'rules': [{'name': 'x', 'index': 0, 'match':
     {'path': {'match_criteria': 'REGEX_MATCH', 'match_str': ['(unclosed']}}}]}}, [])
seed('bad_enum', {'name': 'b', 'http_request_policy': {'rules': [{'name': 'x', 'index': 0,
     'redirect_action': {'protocol': 'HTTPS', 'status_code': 'HTTP_REDIRECT_STATUS_CODE_303'}}]}}, [])
print(f'wrote {len(os.listdir(out))} seeds to {out}')
