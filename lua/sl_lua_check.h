/* DataScript syntax check (LuaJIT parser, nothing is executed). */
#ifndef SL_LUA_CHECK_H
#define SL_LUA_CHECK_H
#include <stddef.h>

/* 0 when src compiles as a Lua chunk; -EINVAL with the parser's message ("name:line: ...") in err. */
int sl_lua_check(const char *src, size_t len, const char *chunkname, char *err, size_t errlen);
#endif
