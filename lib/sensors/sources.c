/* Every sensor source, one row each: the power and energy sources in the
 * order they are tried, and the device-state sources. A new sensor is its
 * ops (lib/sensors/<name>.c) and a row here. */
#include "edgebench/sensors.h"

/* The estimate last: it is used only when nothing before it measures. */
/* An external meter, when one is asked for, first: it is the total. */
const eb_source_ops *const eb_power_backends[] = {
    &eb_source_meter,    &eb_source_rapl, &eb_source_hwmon,       &eb_source_battery,
    &eb_source_pi5_pmic, &eb_source_nvml, &eb_source_cpu_estimate};
const size_t eb_power_backend_count = sizeof eb_power_backends / sizeof eb_power_backends[0];

const eb_source_ops *const eb_state_backends[] = {
    &eb_source_cpufreq, &eb_source_thermal,    &eb_source_jetson_gpu, &eb_source_nvmap,
    &eb_source_drm_gpu, &eb_source_drm_fdinfo, &eb_source_cpuload};
const size_t eb_state_backend_count = sizeof eb_state_backends / sizeof eb_state_backends[0];
