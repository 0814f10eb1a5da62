import { KeyboardCode, type KeyboardCoordinateGetter } from "@dnd-kit/core";

/**
 * Arrow keys jump between pool columns instead of nudging 25 px at a time:
 * → / ← go to the next / previous column, ↑ / ↓ move within it.
 */
export const columnCoordinates: KeyboardCoordinateGetter = (event, { context, currentCoordinates }) => {
  const { droppableRects, collisionRect } = context;
  if (!collisionRect) return undefined;
  const columns = [...droppableRects.values()].sort((a, b) => a.left - b.left);
  const centerX = collisionRect.left + collisionRect.width / 2;
  switch (event.code) {
    case KeyboardCode.Right:
    case KeyboardCode.Left: {
      event.preventDefault();
      const right = event.code === KeyboardCode.Right;
      const target = right
        ? columns.find((r) => r.left > centerX)
        : [...columns].reverse().find((r) => r.left + r.width < centerX - 1);
      if (!target) return currentCoordinates;
      return {
        x: target.left + (target.width - collisionRect.width) / 2,
        y: Math.max(
          target.top + 48,
          Math.min(currentCoordinates.y, target.top + target.height - collisionRect.height),
        ),
      };
    }
    case KeyboardCode.Down:
      event.preventDefault();
      return { x: currentCoordinates.x, y: currentCoordinates.y + 40 };
    case KeyboardCode.Up:
      event.preventDefault();
      return { x: currentCoordinates.x, y: currentCoordinates.y - 40 };
  }
  return undefined;
};
