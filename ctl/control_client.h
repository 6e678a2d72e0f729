/* SPDX-License-Identifier: GPL-2.0-or-later */
/* portleasectl list|status|delete|flush|explain: the operator's commands,
 * answered by the daemon over its control socket. */
#ifndef PORTLEASECTL_CONTROL_CLIENT_H
#define PORTLEASECTL_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stdio.h>

bool control_is_command(const char *word);
/* argv[0] is the command. Returns the exit status. */
int control_main(int argc, char **argv, void (*usage)(FILE *out));

#endif
