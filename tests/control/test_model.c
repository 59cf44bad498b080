/* Table-driven validation tests: for every object type, valid payloads are accepted (201) and invalid
 * ones are refused with the exact status and JSON path, leaving the configuration unchanged. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_test_util.h"

struct vcase {
	const char *body;     /* JSON with ' for " */
	int status;
	const char *path;     /* expected error path (ignored for 2xx) */
};

static char *dq(const char *s)
{
	char *d = strdup(s);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static json_t *cert_obj(const char *name, const char *certfile, const char *keyfile)
{
	char p1[512], p2[512];
	snprintf(p1, sizeof(p1), "%s/%s", SL_FIXTURES, certfile);
	char *cert = slurp(p1);
	json_t *o = json_pack("{s:s, s:{s:s}}", "name", name, "certificate", "certificate", cert);
	free(cert);
	if (keyfile) {
		snprintf(p2, sizeof(p2), "%s/%s", SL_FIXTURES, keyfile);
		char *key = slurp(p2);
		json_object_set_new(o, "key", json_string(key));
		free(key);
	}
	return o;
}

static int post_json(struct tctl *t, const char *type, json_t *o, json_t **out)
{
	char *s = json_dumps(o, 0), target[128];
	snprintf(target, sizeof(target), "/api/%s", type);
	int st = treq(t, "POST", target, s, out);
	free(s);
	return st;
}

static void base(struct tctl *t)
{
	static const char *const objs[][2] = {
		{ "pool", "{'name':'p1','servers':[{'ip':{'addr':'198.18.1.2','type':'V4'},'port':80}]}" },
		{ "pool", "{'name':'p2','servers':[{'ip':{'addr':'198.18.1.3','type':'V4'},'port':80}]}" },
		{ "poolgroup", "{'name':'pg1','members':[{'pool_ref':'/api/pool?name=p1','ratio':10}]}" },
		{ "vsvip", "{'name':'vip1','vip':[{'vip_id':'0','ip_address':{'addr':'198.18.0.10','type':'V4'}}]}" },
		{ "virtualservice", "{'name':'base','vsvip_ref':'/api/vsvip?name=vip1','services':[{'port':80}],'pool_ref':'p1'}" },
		{ "virtualservice", "{'name':'udp53','vip':[{'ip_address':{'addr':'198.18.0.20'}}],'services':[{'port':53}],"
				    "'application_profile_ref':'System-L4-Application','network_profile_ref':'System-UDP-Fast-Path','pool_ref':'p2'}" },
	};
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		char target[64];
		snprintf(target, sizeof(target), "/api/%s", objs[i][0]);
		char *b = dq(objs[i][1]);
		json_t *r = NULL;
		int st = treq(t, "POST", target, b, &r);
		char *rs = r ? json_dumps(r, 0) : NULL;
		cr_assert_eq(st, 201, "base %s: %d %s", objs[i][0], st, rs ? rs : "");
		free(rs);
		json_decref(r);
		free(b);
	}
	json_t *c = cert_obj("c1", "chain_ok.pem", "leaf.key");
	cr_assert_eq(post_json(t, "sslkeyandcertificate", c, NULL), 201);
	json_decref(c);
	char *b = dq("{'name':'parent','type':'VS_TYPE_VH_PARENT','vip':[{'ip_address':{'addr':'198.18.0.11'}}],"
		     "'services':[{'port':443,'enable_ssl':true}],'ssl_key_and_certificate_refs':['c1'],'pool_ref':'p1'}");
	cr_assert_eq(treq(t, "POST", "/api/virtualservice", b, NULL), 201);
	free(b);
}

static void run(const char *type, const struct vcase *cases, size_t n)
{
	struct tctl t;
	tctl_init(&t);
	base(&t);
	char target[64];
	snprintf(target, sizeof(target), "/api/%s", type);
	for (size_t i = 0; i < n; i++) {
		uint64_t gen_before = sl_ctl_generation(t.c);
		char *b = dq(cases[i].body);
		json_t *r = NULL;
		int st = treq(&t, "POST", target, b, &r);
		char *rs = r ? json_dumps(r, JSON_COMPACT) : strdup("(no body)");
		cr_expect_eq(st, cases[i].status, "%s case %zu: status %d, want %d: %s", type, i, st, cases[i].status, rs);
		if (cases[i].status >= 400) {
			const char *p = json_string_value(json_object_get(r, "path"));
			cr_expect(p && !strcmp(p, cases[i].path), "%s case %zu: path \"%s\", want \"%s\" (%s)", type, i,
				  p ? p : "(none)", cases[i].path, rs);
			cr_expect(json_is_string(json_object_get(r, "error")) && json_is_string(json_object_get(r, "detail")));
			cr_expect_eq(sl_ctl_generation(t.c), gen_before, "%s case %zu: a refused change published", type, i);
		} else {
			cr_expect_eq(sl_ctl_generation(t.c), gen_before + 1);
		}
		free(rs);
		free(b);
		json_decref(r);
	}
	tctl_fini(&t);
}

#define RUN(type, cases) run(type, cases, sizeof(cases) / sizeof(cases[0]))

Test(model, pool)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','servers':[{'ip':{'addr':'198.18.1.4','type':'V4'},'port':8080,'ratio':5,'enabled':false}],"
		  "'lb_algorithm':'LB_ALGORITHM_CONSISTENT_HASH','lb_algorithm_hash':'LB_ALGORITHM_CONSISTENT_HASH_URI',"
		  "'health_monitor_refs':['/api/healthmonitor/?name=System-TCP','System-HTTP'],'default_server_port':8080}", 201, "" },
		{ "{'name':'ok2','tenant_ref':'/api/tenant/?name=admin','cloud_ref':'/api/cloud?name=Default-Cloud','vrf_ref':'x',"
		  "'created_by':'me','cloud_config_cksum':'1','service_metadata':'{}','description':'d','markers':[{'key':'a'}],"
		  "'ssl_profile_ref':'','sni_enabled':false}", 201, "" },
		{ "{'name':'b1','servers':[{'ip':{'addr':'198.18.1.2'},'prt':1}]}", 400, "servers[0].prt" },
		{ "{'name':'b2','servers':[{'ip':{'addr':'198.18.1.2'},'port':70000}]}", 400, "servers[0].port" },
		{ "{'name':'b3','lb_algorithm':'LB_ALGORITHM_FOO'}", 400, "lb_algorithm" },
		{ "{'name':'b4','servers':[{'ip':{'addr':'198.18.1.300'}}]}", 400, "servers[0].ip.addr" },
		{ "{'name':'b5','servers':[{'ip':{'addr':'198.18.1.2'}},{'ip':{'addr':'224.0.0.1'}}]}", 422, "servers[1].ip.addr" },
		{ "{'name':'b6','health_monitor_refs':['/api/healthmonitor?name=nope']}", 422, "health_monitor_refs[0]" },
		{ "{'servers':[]}", 400, "name" },
		{ "{'name':'b8','servers':{}}", 400, "servers" },
		{ "{'name':'b9','servers':[{'ip':{'addr':'198.18.1.2'},'port':80},{'ip':{'addr':'198.18.1.2'},'port':80}]}", 422, "servers[1].ip" },
		{ "{'name':'b10','health_monitor_refs':['/api/pool?name=p1']}", 422, "health_monitor_refs[0]" },
		{ "{'name':'p1'}", 409, "name" },
		{ "{'name':'b12','servers':[{'ip':{'addr':'127.0.0.1'}}]}", 422, "servers[0].ip.addr" },
		{ "{'name':'b13','servers':[{'ip':{'addr':'198.18.1.2','type':'V6'}}]}", 422, "servers[0].ip.type" },
		{ "{'name':'b14','enabled':'yes'}", 400, "enabled" },
	};
	RUN("pool", c);
}

Test(model, virtualservice)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','vsvip_ref':'/api/vsvip?name=vip1','services':[{'port':8080,'port_range_end':8090}],'pool_group_ref':'pg1',"
		  "'application_profile_ref':'/api/applicationprofile?name=System-HTTP','network_profile_ref':'System-TCP-Proxy'}", 201, "" },
		{ "{'name':'child1','type':'VS_TYPE_VH_CHILD','vh_parent_vs_ref':'/api/virtualservice?name=parent',"
		  "'vh_domain_name':['a.sluice.example'],'pool_ref':'p2'}", 201, "" },
		{ "{'name':'b1','vsvip_ref':'vip1','services':[{'port':0}]}", 400, "services[0].port" },
		{ "{'name':'b2','services':[{'port':81}]}", 422, "vsvip_ref" },
		{ "{'name':'b3','vsvip_ref':'vip1','services':[{'port':82}],'pool_ref':'/api/pool?name=missing'}", 422, "pool_ref" },
		{ "{'name':'b4','type':'VS_TYPE_VH_CHILD','vh_domain_name':['b.sluice.example']}", 422, "vh_parent_vs_ref" },
		{ "{'name':'b5','type':'VS_TYPE_VH_CHILD','vh_parent_vs_ref':'base','vh_domain_name':['b.sluice.example']}", 422, "vh_parent_vs_ref" },
		{ "{'name':'b6','vsvip_ref':'vip1','services':[{'port':79,'port_range_end':81}]}", 409, "services[0].port" },
		{ "{'name':'b7','vip':[{'ip_address':{'addr':'198.18.0.12'}}],'services':[{'port':443,'enable_ssl':true}]}", 422, "services[0].enable_ssl" },
		{ "{'name':'b8','vip':[{'ip_address':{'addr':'198.18.0.12'}}],'services':[{'port':80}],'network_profile_ref':'System-UDP-Fast-Path'}", 422, "network_profile_ref" },
		{ "{'name':'b9','vsvip_ref':'vip1','services':[{'port':83}],'foo':1}", 400, "foo" },
		{ "{'name':'b10','vsvip_ref':'/api/pool?name=p1','services':[{'port':84}]}", 422, "vsvip_ref" },
		{ "{'name':'b11','type':'VS_TYPE_VH_CHILD','vh_parent_vs_ref':'parent','vh_domain_name':['a.sluice.example']}", 409, "vh_domain_name[0]" },
		{ "{'name':'b12','vsvip_ref':'vip1','services':[{'port':85}],'type':'VS_TYPE_SPECIAL'}", 400, "type" },
		{ "{'name':'b13','vsvip_ref':'vip1','services':[{'port':86}],'pool_ref':'p1','pool_group_ref':'pg1'}", 422, "pool_group_ref" },
		{ "{'name':'udp53b','vip':[{'ip_address':{'addr':'198.18.0.20'}}],'services':[{'port':53}],"
		  "'application_profile_ref':'System-L4-Application','network_profile_ref':'System-UDP-Fast-Path'}", 409, "services[0].port" },
		{ "{'name':'tcp53','vip':[{'ip_address':{'addr':'198.18.0.20'}}],'services':[{'port':53}],"
		  "'application_profile_ref':'System-L4-Application','network_profile_ref':'System-TCP-Proxy','pool_ref':'p2'}", 201, "" },
	};
	RUN("virtualservice", c);
}

Test(model, vsvip)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','vip':[{'vip_id':'0','ip_address':{'addr':'198.18.0.30','type':'V4'},'enabled':true}],'dns_info':[{'fqdn':'x.sluice.example'}]}", 201, "" },
		{ "{'name':'b1','vip':[{'ip_address':{'addr':'x'}}]}", 400, "vip[0].ip_address.addr" },
		{ "{'name':'b2'}", 400, "vip" },
		{ "{'name':'b3','vip':[]}", 400, "vip" },
		{ "{'name':'b4','vip':[{'ip_address':{'addr':'198.18.0.31','type':'V6'}}]}", 422, "vip[0].ip_address.type" },
		{ "{'name':'b5','vip':[{'ip_address':{'addr':'198.18.0.31'},'subnet':1}]}", 400, "vip[0].subnet" },
		{ "{'name':'b6','vip':[{'ip_address':{'addr':'255.255.255.255'}}]}", 422, "vip[0].ip_address.addr" },
		{ "{'name':'b7','vip':[{'ip_address':{'addr':'198.18.0.31'}},{'ip_address':{'addr':'198.18.0.31'}}]}", 422, "vip[1].ip_address" },
	};
	RUN("vsvip", c);
}

Test(model, poolgroup)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','members':[{'pool_ref':'p1','ratio':0,'priority_label':'10'},{'pool_ref':'/api/pool?name=p2'}],'implicit_priority_labels':false}", 201, "" },
		{ "{'name':'b1','members':[{'pool_ref':'nope'}]}", 422, "members[0].pool_ref" },
		{ "{'name':'b2','members':[{'pool_ref':'p1','ratio':1001}]}", 400, "members[0].ratio" },
		{ "{'name':'b3','members':[{'ratio':1}]}", 400, "members[0].pool_ref" },
		{ "{'name':'b4','members':[{'pool_ref':'p1'},{'pool_ref':'p1'}]}", 422, "members[1].pool_ref" },
		{ "{'name':'b5','members':[{'pool_ref':'p1','weight':1}]}", 400, "members[0].weight" },
		{ "{'name':'b6','members':[{'pool_ref':''}]}", 400, "members[0].pool_ref" },
	};
	RUN("poolgroup", c);
}

Test(model, httppolicyset)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','http_request_policy':{'rules':[{'enable':true,'index':0,'name':'r0','match':{'host_hdr':"
		  "{'match_criteria':'HDR_EQUALS','value':['a.sluice.example']},'vs_port':{'match_criteria':'IS_IN','ports':[80]}},"
		  "'redirect_action':{'port':443,'protocol':'HTTPS','status_code':'HTTP_REDIRECT_STATUS_CODE_302'}},"
		  "{'index':1,'name':'r1','match':{'path':{'match_criteria':'BEGINS_WITH','match_str':['/']}},"
		  "'switching_action':{'action':'HTTP_SWITCHING_SELECT_POOLGROUP','pool_group_ref':'/api/poolgroup/?name=pg1'}}]}}", 201, "" },
		{ "{'name':'b1','http_request_policy':{'rules':[{'index':0,'name':'r','match':{'host_hdr':{'match_criteria':'HDR_IS'}}}]}}", 400,
		  "http_request_policy.rules[0].match.host_hdr.match_criteria" },
		{ "{'name':'b2','http_request_policy':{'rules':[{'index':0,'name':'r','switching_action':{'action':'HTTP_SWITCHING_SELECT_POOL'}}]}}", 422,
		  "http_request_policy.rules[0].switching_action.pool_ref" },
		{ "{'name':'b3','http_request_policy':{'rules':[{'index':0,'name':'r'},{'index':0,'name':'s'}]}}", 422, "http_request_policy.rules[1].index" },
		{ "{'name':'b4','http_request_policy':{'rules':[{'index':0,'name':'r','redirect_action':{'protocol':'HTTPS','status_code':'HTTP_REDIRECT_STATUS_CODE_399'}}]}}", 400,
		  "http_request_policy.rules[0].redirect_action.status_code" },
		{ "{'name':'b5','http_request_policy':{'rules':[{'index':0,'name':'r','colour':'red'}]}}", 400, "http_request_policy.rules[0].colour" },
		{ "{'name':'b6','http_request_policy':{'rules':[{'index':0,'name':'r','match':{'vs_port':{'match_criteria':'IS_IN','ports':[0]}}}]}}", 400,
		  "http_request_policy.rules[0].match.vs_port.ports[0]" },
		{ "{'name':'b7','http_request_policy':{'rules':[{'index':0,'name':'r','switching_action':{'action':'HTTP_SWITCHING_SELECT_POOL','pool_ref':'zz'}}]}}", 422,
		  "http_request_policy.rules[0].switching_action.pool_ref" },
	};
	RUN("httppolicyset", c);
}

Test(model, healthmonitor)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','type':'HEALTH_MONITOR_HTTP','send_interval':10,'receive_timeout':4,'failed_checks':3,'successful_checks':2,"
		  "'http_monitor':{'http_request':'GET / HTTP/1.0','http_response_code':['HTTP_2XX']},'is_federated':false}", 201, "" },
		{ "{'name':'b1','type':'HEALTH_MONITOR_SNMP'}", 400, "type" },
		{ "{'name':'b2','type':'HEALTH_MONITOR_TCP','send_interval':0}", 400, "send_interval" },
		{ "{'name':'b3','type':'HEALTH_MONITOR_TCP','send_interval':5,'receive_timeout':5}", 422, "receive_timeout" },
		{ "{'name':'b4'}", 400, "type" },
		{ "{'name':'b5','type':'HEALTH_MONITOR_HTTP','http_monitor':{'http_response_code':['HTTP_6XX']}}", 400, "http_monitor.http_response_code[0]" },
		{ "{'name':'System-TCP','type':'HEALTH_MONITOR_TCP'}", 409, "name" },
	};
	RUN("healthmonitor", c);
}

Test(model, vsdatascriptset)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','datascript':[{'evt':'VS_DATASCRIPT_EVT_HTTP_REQ','script':'host = avi.http.get_host_tokens(1)\\n"
		  "path = avi.http.get_path_tokens(1)\\nif host and path then\\nlbl = host..\\\"/\\\"..path\\nelse\\nlbl = host..\\\"/\\\"\\nend\\n"
		  "avi.poolgroup.select(\\\"pg1\\\", string.lower(lbl) )\\n'}],'pool_group_refs':['pg1']}", 201, "" },
		{ "{'name':'b1','datascript':[{'evt':'VS_DATASCRIPT_EVT_HTTP_REQ','script':'if then end'}]}", 422, "datascript[0].script" },
		{ "{'name':'b2','datascript':[{'evt':'VS_DATASCRIPT_EVT_FOO','script':'x=1'}]}", 400, "datascript[0].evt" },
		{ "{'name':'b3'}", 400, "datascript" },
		{ "{'name':'b4','datascript':[{'evt':'VS_DATASCRIPT_EVT_HTTP_REQ','script':'x=1'}],'pool_refs':['nope']}", 422, "pool_refs[0]" },
		{ "{'name':'b5','datascript':[{'evt':'VS_DATASCRIPT_EVT_HTTP_REQ'}]}", 400, "datascript[0].script" },
		{ "{'name':'b6','datascript':[{'evt':'VS_DATASCRIPT_EVT_HTTP_REQ','script':'x=1'},{'evt':'VS_DATASCRIPT_EVT_HTTP_RESP','script':'x = = 2'}]}", 422, "datascript[1].script" },
	};
	RUN("vsdatascriptset", c);
}

Test(model, gslbservice)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','domain_names':['hello.gslb.sluice.example'],'groups':[{'name':'g','priority':10,'algorithm':'GSLB_ALGORITHM_ROUND_ROBIN',"
		  "'members':[{'ip':{'addr':'198.18.0.50','type':'V4'},'ratio':6,'enabled':true},{'ip':{'addr':'198.18.0.51'},'ratio':4}]}],"
		  "'ttl':30,'health_monitor_refs':['System-HTTP'],'down_response':{'type':'GSLB_SERVICE_DOWN_RESPONSE_NONE'}}", 201, "" },
		{ "{'name':'b1','groups':[]}", 400, "domain_names" },
		{ "{'name':'b2','domain_names':['x.gslb.sluice.example'],'groups':[{'members':[{'ip':{'addr':'239.1.1.1'}}]}]}", 422, "groups[0].members[0].ip.addr" },
		{ "{'name':'b3','domain_names':['x.gslb.sluice.example'],'groups':[{'members':[{'ip':{'addr':'198.18.0.52'},'ratio':21}]}]}", 400, "groups[0].members[0].ratio" },
		{ "{'name':'b4','domain_names':['x.gslb.sluice.example'],'groups':[{'algorithm':'GSLB_ALGORITHM_BEST'}]}", 400, "groups[0].algorithm" },
		{ "{'name':'b5','domain_names':['HELLO.gslb.sluice.example']}", 409, "domain_names[0]" },
		{ "{'name':'b6','domain_names':['a..b']}", 400, "domain_names[0]" },
		{ "{'name':'b7','domain_names':['y.gslb.sluice.example'],'down_response':{'type':'GSLB_SERVICE_DOWN_RESPONSE_FALLBACK_IP'}}", 422, "down_response.fallback_ip" },
	};
	RUN("gslbservice", c);
}

Test(model, applicationprofile)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','type':'APPLICATION_PROFILE_TYPE_DNS','dns_service_profile':{'ttl':30,'negative_caching_ttl':30,"
		  "'dns_zones':[{'domain_name':'gslb.sluice.example','name_server':'ns1.gslb.sluice.example','admin_email':'hostmaster'}],"
		  "'error_response':'DNS_ERROR_RESPONSE_NONE'}}", 201, "" },
		{ "{'name':'b1'}", 400, "type" },
		{ "{'name':'b2','type':'APPLICATION_PROFILE_TYPE_FTP'}", 400, "type" },
		{ "{'name':'b3','type':'APPLICATION_PROFILE_TYPE_DNS','dns_service_profile':{'ttl':-1}}", 400, "dns_service_profile.ttl" },
		{ "{'name':'b4','type':'APPLICATION_PROFILE_TYPE_HTTP','bogus':true}", 400, "bogus" },
		{ "{'name':'b5','type':'APPLICATION_PROFILE_TYPE_HTTP','http_profile':{'foo':1}}", 400, "http_profile.foo" },
		{ "{'name':'System-HTTP','type':'APPLICATION_PROFILE_TYPE_HTTP'}", 409, "name" },
	};
	RUN("applicationprofile", c);
}

Test(model, networkprofile)
{
	static const struct vcase c[] = {
		{ "{'name':'ok1','profile':{'type':'PROTOCOL_TYPE_TCP_PROXY','tcp_proxy_profile':{'automatic':false,'max_retransmissions':8}}}", 201, "" },
		{ "{'name':'b1'}", 400, "profile" },
		{ "{'name':'b2','profile':{'type':'PROTOCOL_TYPE_SCTP'}}", 400, "profile.type" },
		{ "{'name':'b3','profile':{'type':'PROTOCOL_TYPE_TCP_PROXY','tcp_proxy_profile':{'max_retransmissions':1}}}", 400,
		  "profile.tcp_proxy_profile.max_retransmissions" },
		{ "{'name':'b4','profile':{'type':'PROTOCOL_TYPE_TCP_PROXY'},'x':1}", 400, "x" },
		{ "{'name':'b5','profile':{'type':'PROTOCOL_TYPE_TCP_PROXY','foo':{}}}", 400, "profile.foo" },
	};
	RUN("networkprofile", c);
}

/* certificates need real PEM, so this table names fixture files */
Test(model, sslkeyandcertificate)
{
	static const struct { const char *cert, *key; int status; const char *path; } c[] = {
		{ "chain_ok.pem", "leaf.key", 201, "" },
		{ "leaf.pem", "leaf.key", 201, "" },
		{ "chain_bad.pem", "leaf.key", 422, "certificate.certificate" },
		{ "leaf.pem", "other.key", 422, "key" },
		{ "leaf.pem", NULL, 422, "key" },
		{ "leaf.key", "leaf.key", 422, "certificate.certificate" },
	};
	struct tctl t;
	tctl_init(&t);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "cert%zu", i);
		json_t *o = cert_obj(name, c[i].cert, c[i].key), *r = NULL;
		int st = post_json(&t, "sslkeyandcertificate", o, &r);
		cr_expect_eq(st, c[i].status, "case %zu: %d", i, st);
		if (c[i].status >= 400)
			cr_expect_str_eq(json_string_value(json_object_get(r, "path")), c[i].path, "case %zu", i);
		json_decref(o);
		json_decref(r);
	}
	json_t *r = NULL;
	cr_expect_eq(treq(&t, "POST", "/api/sslkeyandcertificate", "{\"name\":\"x\"}", &r), 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "certificate");
	json_decref(r);
	cr_expect_eq(treq(&t, "POST", "/api/sslkeyandcertificate", "{\"name\":\"y\",\"certificate\":{\"certificate\":\"x\"},\"type\":\"SSL_X\"}", &r), 400);
	cr_expect_str_eq(json_string_value(json_object_get(r, "path")), "type");
	json_decref(r);
	tctl_fini(&t);
}
