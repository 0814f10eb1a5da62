import { previewChange } from "../../domain/changes/preview";
import { changeRequest, rolloutInput } from "../../domain/changes/requests";
import { rolloutOf } from "../../domain/changes/rollout";
import { procedure, router } from "../init";

export const changeRouter = router({
  /** Dry run: the change's diff against the running snapshot and its estimated effect on traffic. */
  preview: procedure("config.preview")
    .input(changeRequest)
    .query(({ ctx, input }) => previewChange(ctx.services, ctx.actor, input)),
  /** ACK / NACK progress of one config version through the cluster's agents; poll it. */
  rollout: procedure("config.read")
    .input(rolloutInput)
    .query(({ ctx, input }) => rolloutOf(ctx.services, input.clusterId, input.version)),
});
