/* Rows of the parameter table (eb_params, lib/bench/params.c) that say
 * where the work runs: a backend by name, or llama-bench's device list.
 * Included inside the table's initializer; nothing else includes it. */
/* clang-format off */
    {.key = "backend",
     .scope = EB_PS_RUN,
     .type = EB_PT_CHOICE,
     .flag = "backend",
     .choices = "auto|cpu|vulkan|cuda|rpc",
     .def = "auto",
     .flags = EB_PF_KEY_WHEN_SET | EB_PF_STORED,
     .field = EB_FK_STR,
     .offset = CFG(backend),
     .words = "backend %s",
     .cmds = EB_CMD_RUN | EB_CMD_PPL,
     .help = "auto: llama.cpp's choice (every GPU the build has); cpu: the CPU alone; vulkan, "
             "cuda: that backend's devices, all layers unless --ngl says; rpc: the --rpc nodes. "
             "A backend the build or the machine lacks fails the run with its reason"},
    {.key = "devices",
     .scope = EB_PS_RUN,
     .type = EB_PT_STR,
     .flag = "device",
     .lb_flag = "dev",
     .flags = EB_PF_KEY_WHEN_SET | EB_PF_STORED,
     .field = EB_FK_STR,
     .offset = CFG(devices),
     .metavar = "DEV[/DEV]",
     .words = "devices %s",
     .cmds = EB_CMD_RUN | EB_CMD_PPL,
     .help = "llama-bench's -dev: the devices that take the offloaded layers, by name, "
             "several joined by / (--list-devices), or none for the CPU alone"},
    {.key = "build",
     .scope = EB_PS_RUN,
     .type = EB_PT_STR,
     .flag = "build",
     .def = "default",
     .flags = EB_PF_KEY_WHEN_SET,
     .field = EB_FK_STR,
     .offset = CFG(build),
     .metavar = "NAME|DIR",
     .cmds = EB_CMD_RUN | EB_CMD_PPL,
     .help = "the cached llama.cpp build to run with: default (edgebench's own), cpu, "
             "kleidiai (Arm), vulkan, cuda (the newest such build of the same release and "
             "machine) or a build's folder; the run "
             "restarts itself on it, and its record names the build that ran"},
    {.key = "list_devices",
     .scope = EB_PS_CLI,
     .type = EB_PT_BOOL,
     .flag = "list-devices",
     .field = EB_FK_BOOL,
     .offset = OPT(list_devices),
     .help = "list the devices the build's backends find here, and exit"},
/* clang-format on */
