import type { RouterOutputs } from "../../lib/api-types";

/** A pool as the board reads it (`pool.board`): settings it shows, backends in their lean shape. */
export type BoardPool = RouterOutputs["pool"]["board"][number];
/** A backend as the board reads it: id, pool, name, endpoint, weight, state, backup. */
export type BoardBackend = BoardPool["backends"][number];
