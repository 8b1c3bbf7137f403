#include <stdint.h>
#include <bcg729/encoder.h>
#include <bcg729/decoder.h>
