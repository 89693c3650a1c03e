// libedit (Debian libedit-dev) through its readline-compatible interface: the non-variadic
// part of the API, which Swift can call directly. Only VigilLineEdit imports this module.
#include <stdio.h>
#include <editline/readline.h>
