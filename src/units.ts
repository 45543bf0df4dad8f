/** One mebibyte, in bytes: the unit of PART_SIZE_MIB, of part and body limits, and of throughput in logs. */
export const MIB = 1024 * 1024;
