/* sluicectl: command line client of the control socket (same REST API as curl --unix-socket). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *sock_path = "/run/sluice/control.sock";
static bool opt_json;

static const char *const types[] = { "virtualservice", "vsvip", "pool", "poolgroup", "httppolicyset",
	"sslkeyandcertificate", "healthmonitor", "vsdatascriptset", "gslbservice", "applicationprofile",
	"networkprofile", "sslprofile", NULL };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sluicectl [--socket PATH] [--json] COMMAND\n"
		"  list TYPE                       objects of a type (table: name, uuid, generation)\n"
		"  get TYPE NAME|UUID              one object (JSON)\n"
		"  apply -f FILE [-t TYPE]         create or replace: FILE holds a macro item, a list of them,\n"
		"                                  or one object of TYPE (all-or-nothing, via PUT /api/macro)\n"
		"  delete TYPE NAME|UUID           delete one object\n"
		"  status | stats | metrics        engine status, counters, Prometheus text\n"
		"  runtime NAME                    runtime state of a virtual service\n"
		"TYPE: virtualservice vsvip pool poolgroup httppolicyset sslkeyandcertificate healthmonitor\n"
		"      vsdatascriptset gslbservice applicationprofile networkprofile sslprofile\n"
		"The socket defaults to $SLUICE_SOCK or /run/sluice/control.sock.\n");
}

struct reply { int status; char *body; size_t len; };

static char *urlenc(const char *s)
{
	char *o = malloc(strlen(s) * 3 + 1), *p = o;
	if (!o)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("-_.~", c))
			*p++ = (char)c;
		else
			p += sprintf(p, "%%%02X", c);
	}
	*p = 0;
	return o;
}

static int request(const char *method, const char *target, const char *body, size_t blen, struct reply *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "sluicectl: socket path too long\n");
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "sluicectl: cannot connect to %s: %s\n", sock_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char hdr[4096];
	int hl = snprintf(hdr, sizeof(hdr),
			  "%s %s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: sluicectl\r\nConnection: close\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", method, target, blen);
	if (hl < 0 || (size_t)hl >= sizeof(hdr)) {
		close(fd);
		fprintf(stderr, "sluicectl: request target too long\n");
		return -1;
	}
	const char *parts[2] = { hdr, body };
	size_t lens[2] = { (size_t)hl, blen };
	for (int i = 0; i < 2; i++) {
		size_t off = 0;
		while (off < lens[i]) {
			ssize_t w = send(fd, parts[i] + off, lens[i] - off, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "sluicectl: send: %s\n", strerror(errno));
				close(fd);
				return -1;
			}
			off += (size_t)w;
		}
	}
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (!buf) {
			close(fd);
			return -1;
		}
		if (len == cap) {
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				close(fd);
				return -1;
			}
			buf = nb;
		}
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	char *p = buf;
	/* skip interim 100 Continue responses */
	while (!strncmp(p, "HTTP/1.1 100", 12)) {
		char *e = strstr(p, "\r\n\r\n");
		if (!e)
			break;
		p = e + 4;
	}
	if (sscanf(p, "HTTP/1.%*d %d", &r->status) != 1) {
		fprintf(stderr, "sluicectl: malformed response from %s\n", sock_path);
		free(buf);
		return -1;
	}
	char *e = strstr(p, "\r\n\r\n");
	r->body = e ? strdup(e + 4) : strdup("");
	r->len = r->body ? strlen(r->body) : 0;
	free(buf);
	return r->body ? 0 : -1;
}

/* Prints the server's error and returns the exit status. */
static int fail(const struct reply *r)
{
	json_t *j = json_loads(r->body, 0, NULL);
	const char *err = json_string_value(json_object_get(j, "error"));
	const char *path = json_string_value(json_object_get(j, "path"));
	const char *det = json_string_value(json_object_get(j, "detail"));
	if (opt_json)
		fprintf(stderr, "%s", r->body);
	else if (err)
		fprintf(stderr, "sluicectl: error %d %s%s%s: %s\n", r->status, err, path && path[0] ? " at " : "",
			path && path[0] ? path : "", det ? det : "");
	else
		fprintf(stderr, "sluicectl: error %d: %s\n", r->status, r->body);
	json_decref(j);
	return r->status == 404 ? 3 : 1;
}

static int do_simple(const char *method, const char *target, const char *body, size_t blen, struct reply *r)
{
	if (request(method, target, body, blen, r))
		return 2;
	if (r->status < 200 || r->status >= 300)
		return fail(r);
	return 0;
}

static bool valid_type(const char *t)
{
	for (int i = 0; types[i]; i++)
		if (!strcmp(types[i], t))
			return true;
	fprintf(stderr, "sluicectl: unknown type \"%s\"\n", t);
	return false;
}

static void print_table_list(json_t *j)
{
	size_t i;
	json_t *o;
	printf("%-48s %-60s %s\n", "NAME", "UUID", "GEN");
	json_array_foreach(json_object_get(j, "results"), i, o)
		printf("%-48s %-60s %lld\n", json_string_value(json_object_get(o, "name")) ?: "",
		       json_string_value(json_object_get(o, "uuid")) ?: "",
		       (long long)json_integer_value(json_object_get(o, "_generation")));
}

static void print_kv(json_t *j, const char *prefix)
{
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		char key[256];
		snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", k);
		if (json_is_object(v)) {
			print_kv(v, key);
		} else {
			char *s = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%-40s %s\n", key, s ? s : "");
			free(s);
		}
	}
}

static int cmd_apply(const char *file, const char *type)
{
	json_error_t je;
	json_t *j = strcmp(file, "-") ? json_load_file(file, 0, &je) : json_loadf(stdin, 0, &je);
	if (!j) {
		fprintf(stderr, "sluicectl: %s:%d:%d: %s\n", file, je.line, je.column, je.text);
		return 1;
	}
	json_t *macro;
	if (json_is_array(j) || json_object_get(j, "model_name")) {
		macro = json_incref(j);
	} else {
		if (!type) {
			fprintf(stderr, "sluicectl: %s holds one object: give its type with -t TYPE\n", file);
			json_decref(j);
			return 1;
		}
		if (!valid_type(type)) {
			json_decref(j);
			return 1;
		}
		macro = json_pack("{s:s, s:O}", "model_name", type, "data", j);
	}
	char *body = json_dumps(macro, JSON_COMPACT);
	json_decref(macro);
	json_decref(j);
	struct reply r = { 0 };
	int rc = do_simple("PUT", "/api/macro", body, strlen(body), &r);
	free(body);
	if (!rc) {
		json_t *res = json_loads(r.body, 0, NULL);
		if (opt_json) {
			fputs(r.body, stdout);
		} else {
			size_t i;
			json_t *o;
			json_array_foreach(res, i, o)
				printf("applied %s (%s) generation %lld\n", json_string_value(json_object_get(o, "name")) ?: "",
				       json_string_value(json_object_get(o, "uuid")) ?: "",
				       (long long)json_integer_value(json_object_get(o, "_generation")));
		}
		json_decref(res);
	}
	free(r.body);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "file", required_argument, NULL, 'f' }, { "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *type = NULL;
	if (getenv("SLUICE_SOCK"))
		sock_path = getenv("SLUICE_SOCK");
	int o;
	while ((o = getopt_long(argc, argv, "+s:jf:t:h", lo, NULL)) != -1) {
		switch (o) {
		case 's': sock_path = optarg; break;
		case 'j': opt_json = true; break;
		case 'f': file = optarg; break;
		case 't': type = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	const char *cmd = argv[optind];
	/* options may also follow the command (sluicectl apply -f x.json): rescan from the command on */
	argv += optind;
	argc -= optind;
	optind = 0;
	while ((o = getopt_long(argc, argv, "s:jf:t:h", lo, NULL)) != -1) {
		switch (o) {
		case 's': sock_path = optarg; break;
		case 'j': opt_json = true; break;
		case 'f': file = optarg; break;
		case 't': type = optarg; break;
		default: usage(stderr); return 1;
		}
	}
	char **args = argv + optind;
	int nargs = argc - optind;
	struct reply r = { 0 };
	char target[2048];
	int rc;
	if (!strcmp(cmd, "apply")) {
		if (!file) {
			fprintf(stderr, "sluicectl: apply needs -f FILE\n");
			return 1;
		}
		return cmd_apply(file, type);
	}
	if ((!strcmp(cmd, "list") && nargs == 1) || ((!strcmp(cmd, "get") || !strcmp(cmd, "delete")) && nargs == 2)) {
		if (!valid_type(args[0]))
			return 1;
		char *id = nargs == 2 ? urlenc(args[1]) : NULL;
		snprintf(target, sizeof(target), "/api/%s%s%s", args[0], id ? "/" : "", id ? id : "");
		free(id);
		rc = do_simple(!strcmp(cmd, "delete") ? "DELETE" : "GET", target, NULL, 0, &r);
		if (!rc) {
			json_t *j = json_loads(r.body, 0, NULL);
			if (!strcmp(cmd, "delete"))
				printf("deleted %s %s\n", args[0], args[1]);
			else if (opt_json || !strcmp(cmd, "get"))
				fputs(r.body, stdout);
			else
				print_table_list(j);
			json_decref(j);
		}
	} else if ((!strcmp(cmd, "status") || !strcmp(cmd, "stats") || !strcmp(cmd, "metrics")) && nargs == 0) {
		snprintf(target, sizeof(target), "%s%s", strcmp(cmd, "metrics") ? "/api/" : "/", cmd);
		rc = do_simple("GET", target, NULL, 0, &r);
		if (!rc) {
			json_t *j = strcmp(cmd, "metrics") ? json_loads(r.body, 0, NULL) : NULL;
			if (opt_json || !j)
				fputs(r.body, stdout);
			else
				print_kv(j, "");
			json_decref(j);
		}
	} else if (!strcmp(cmd, "runtime") && nargs == 1) {
		char *id = urlenc(args[0]);
		snprintf(target, sizeof(target), "/api/virtualservice/%s/runtime", id);
		free(id);
		rc = do_simple("GET", target, NULL, 0, &r);
		if (!rc) {
			json_t *j = json_loads(r.body, 0, NULL);
			if (opt_json)
				fputs(r.body, stdout);
			else
				print_kv(j, "");
			json_decref(j);
		}
	} else {
		usage(stderr);
		return 1;
	}
	free(r.body);
	return rc;
}
