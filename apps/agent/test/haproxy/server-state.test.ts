import { describe, expect, it } from "vitest";
import { carryServerState, EMPTY_SERVER_STATE } from "../../src/engines/haproxy/server-state";
import { be, http, pool, snap } from "./fixtures";

const HEADER =
  "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port";
const line = (srv: string, port: number) =>
  `2 p_p1 1 ${srv} 127.0.0.1 0 0 1 1 5 8 2 0 6 0 0 0 - ${port} - 0 0 - - 0`;
const dump = `${HEADER}\n${line("b_a", 9001)}\n${line("b_b", 9002)}\n${line("b_c", 9003)}\n`;

const listeners = [http("web", 8080, "p1")];
const from = snap(1, listeners, [pool("p1", [be("a", 9001), be("b", 9002), be("c", 9003)])]);

describe("carryServerState", () => {
  it("carries only servers that stay the same: address, port, weight, state and health check", () => {
    const to = snap(2, listeners, [
      pool("p1", [be("a", 9001), be("b", 9102), be("c", 9003, { state: "draining" }), be("d", 9004)]),
    ]);
    expect(carryServerState(dump, from, to)).toBe(`${HEADER}\n${line("b_a", 9001)}\n`);
  });

  it("drops a pool's servers when its health check changes, and reads nothing from an unknown format", () => {
    const to = snap(2, listeners, [
      pool("p1", [be("a", 9001), be("b", 9002), be("c", 9003)], { healthCheck: { type: "tcp" } }),
    ]);
    expect(carryServerState(dump, from, to)).toBe(`${HEADER}\n`);
    expect(carryServerState("2\nsomething else\n", from, from)).toBe(EMPTY_SERVER_STATE);
  });
});
