#include "sl_lua_check.h"

#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>

/* One state reused across checks: luaL_loadbuffer only parses, and the compiled chunk is popped. */
static lua_State *L;

int sl_lua_check(const char *src, size_t len, const char *chunkname, char *err, size_t errlen)
{
	if (!L && !(L = luaL_newstate())) {
		snprintf(err, errlen, "cannot create a Lua state");
		return -ENOMEM;
	}
	int rc = luaL_loadbuffer(L, src, len, chunkname);
	if (rc != 0) {
		const char *m = lua_tostring(L, -1);
		snprintf(err, errlen, "%s", m ? m : "syntax error");
		lua_settop(L, 0);
		return -EINVAL;
	}
	lua_settop(L, 0);
	return 0;
}
