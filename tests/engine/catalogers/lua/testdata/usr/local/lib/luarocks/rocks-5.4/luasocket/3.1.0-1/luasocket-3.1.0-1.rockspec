-- Shaped like a LuaRocks rockspec (reference: github.com/luarocks/luarocks/wiki/Rockspec-format)
package = "LuaSocket"
version = "3.1.0-1"
source = {
   url = "git+https://github.com/lunarmodules/luasocket.git",
   tag = "v3.1.0"
}
description = {
   summary = "Network support for the Lua language",
   detailed = [[
      LuaSocket is a Lua extension library composed of two parts: a set of C
      modules that provide support for the TCP and UDP transport layers.
   ]],
   homepage = "https://github.com/lunarmodules/luasocket",
   license = "MIT"
}
dependencies = {
   "lua >= 5.1"
}
build = {
   type = "builtin",
   modules = { ["socket.core"] = { sources = { "src/luasocket.c" } } }
}
