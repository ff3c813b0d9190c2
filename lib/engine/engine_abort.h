/* ggml's aborts, said in one line (engine_abort.c). */
#ifndef EB_ENGINE_ABORT_H
#define EB_ENGINE_ABORT_H

/* ggml's abort callback; once, before any call into llama.cpp. */
void eb_abort_hook_install(void);

#endif
