"""Tabular Q-learning: the update against a hand computation, convergence to closed-form values,
the slippery-lake target, exact resumption through a safetensors + JSON checkpoint, errors, plot."""

import json
from collections import deque

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from ember.errors import ConfigError
from ember.rl.q_table_plot import plot_q_table
from ember.rl.tabular import QTable, TabularQLearning, q_learning_update

LAKE = ["SFFF", "FHFH", "FFFH", "HFFG"]  # gymnasium's 4x4 map
STEPS = {0: (0, -1), 1: (1, 0), 2: (0, 1), 3: (-1, 0)}  # action -> (row, column) step


def three_state_table() -> torch.Tensor:
    return torch.tensor([[0.0, 0.0], [1.0, 3.0], [0.5, 0.25]])


def test_update_bootstraps_from_the_best_next_action():
    table = three_state_table()
    td_error = q_learning_update(table, 0, 1, 1.0, 1, False, learning_rate=0.5, gamma=0.9)
    # target 1 + 0.9 * max(1, 3) = 3.7; TD error 3.7 - 0; Q += 0.5 * 3.7
    assert td_error == pytest.approx(3.7)
    assert table[0, 1].item() == pytest.approx(1.85)
    assert torch.equal(table[1:], three_state_table()[1:])  # nothing else moves


def test_update_does_not_bootstrap_after_termination():
    table = three_state_table()
    td_error = q_learning_update(table, 2, 0, 1.0, 1, True, learning_rate=0.5, gamma=0.9)
    assert td_error == pytest.approx(0.5)  # target 1 (no future): 1 - 0.5
    assert table[2, 0].item() == pytest.approx(0.75)


def test_truncation_by_the_time_limit_still_bootstraps():
    # One step per episode, always greedy: right from the start (state 0) to state 1, where the
    # time limit cuts the episode. State 1's value must still count.
    agent = TabularQLearning(
        env_kwargs={"is_slippery": False, "max_episode_steps": 1},
        learning_rate=0.5,
        gamma=0.9,
        epsilon_start=0.0,
        epsilon_end=0.0,
    )
    agent.table.values[0, 2] = 0.5
    agent.table.values[1, 2] = 1.0
    agent.learn(1)
    # 0.5 + 0.5 * (0 + 0.9 * 1.0 - 0.5); without bootstrapping it would be 0.25
    assert agent.table.values[0, 2].item() == pytest.approx(0.7)


def steps_to_goal(lake: list[str]) -> dict[int, int]:
    """Breadth-first search from the goal: the fewest moves from each cell, holes impassable."""
    rows, columns = len(lake), len(lake[0])
    goal = next(r * columns + c for r in range(rows) for c in range(columns) if lake[r][c] == "G")
    distance, queue = {goal: 0}, deque([goal])
    while queue:
        state = queue.popleft()
        row, column = divmod(state, columns)
        for step_row, step_column in STEPS.values():
            r, c = row + step_row, column + step_column
            if 0 <= r < rows and 0 <= c < columns and lake[r][c] != "H":
                if r * columns + c not in distance:
                    distance[r * columns + c] = distance[state] + 1
                    queue.append(r * columns + c)
    return distance


def test_deterministic_lake_converges_to_closed_form_values():
    gamma = 0.9
    agent = TabularQLearning(
        env_kwargs={"is_slippery": False}, learning_rate=0.5, gamma=gamma, total_episodes=1000
    )
    agent.learn(1000)
    distance = steps_to_goal(LAKE)
    values = agent.table.values
    # Follow the greedy policy: every state on its path is worth gamma ** (moves left - 1),
    # the one reward of 1 discounted once per move before the last.
    state, path = 0, []
    while LAKE[state // 4][state % 4] != "G" and len(path) < 16:
        path.append(state)
        row, column = divmod(state, 4)
        step_row, step_column = STEPS[int(values[state].argmax())]
        state = min(max(row + step_row, 0), 3) * 4 + min(max(column + step_column, 0), 3)
    assert len(path) == distance[0] == 6  # the shortest way
    for state in path:
        expected = gamma ** (distance[state] - 1)
        assert values[state].max().item() == pytest.approx(expected, abs=1e-3)
    assert agent.evaluate(episodes=20) == {
        "mean_return": 1.0,
        "std_return": 0.0,
        "success_rate": 1.0,
    }


def test_slippery_lake_reaches_the_target_success_rate():
    agent = TabularQLearning(seed=0)  # the defaults: 10,000 episodes, ~3-4 s
    agent.learn(agent.total_episodes)
    result = agent.evaluate(episodes=1000)
    assert result["success_rate"] >= 0.7  # the optimal policy: about 0.74-0.82
    assert result["mean_return"] == result["success_rate"]  # the only reward is 1 at the goal


def test_resumed_learning_equals_uninterrupted(tmp_path):
    settings = {"total_episodes": 600, "seed": 3}
    uninterrupted = TabularQLearning(**settings)
    expected_returns = uninterrupted.learn(600)

    first = TabularQLearning(**settings)
    returns = first.learn(300)
    state = first.state_dict()
    # Through a checkpoint as a run writes one: tensors to safetensors, the rest to JSON.
    save_file({"values": state.pop("table")["values"]}, tmp_path / "table.safetensors")
    (tmp_path / "state.json").write_text(json.dumps(state))
    saved = json.loads((tmp_path / "state.json").read_text())
    saved["table"] = load_file(tmp_path / "table.safetensors")

    resumed = TabularQLearning(**settings)
    resumed.load_state_dict(saved)
    returns += resumed.learn(300)
    assert returns == expected_returns
    assert sum(returns) > 0  # the comparison covers episodes that reached the goal
    assert torch.equal(resumed.table.values, uninterrupted.table.values)
    assert resumed.episodes_done == 600


def test_load_state_dict_rejects_a_table_of_another_shape():
    agent = TabularQLearning()
    state = TabularQLearning(env_kwargs={"map_name": "8x8"}).state_dict()
    with pytest.raises(ConfigError, match=r"shape \(64, 4\).*\(16, 4\).*Fix"):
        agent.load_state_dict(state)


def test_unknown_env_id_suggests_close_ids():
    with pytest.raises(ConfigError, match="'FrozenLake-v1'") as error:
        TabularQLearning("FrozenLak-v1")
    assert "Fix" in str(error.value)


def test_continuous_observations_point_to_dqn():
    with pytest.raises(ConfigError, match="discrete states and actions") as error:
        TabularQLearning("CartPole-v1")
    assert "ember.rl.DQN" in str(error.value)


def test_q_table_forward_indexes_rows():
    table = QTable(5, 3)
    table.values.copy_(torch.arange(15.0).reshape(5, 3))
    assert torch.equal(table(torch.tensor([4, 0])), torch.tensor([[12.0, 13, 14], [0, 1, 2]]))
    assert list(table.state_dict()) == ["values"] and not list(table.parameters())


def test_plot_q_table_writes_a_png(tmp_path):
    agent = TabularQLearning(env_kwargs={"is_slippery": False}, total_episodes=300)
    agent.learn(300)
    path = tmp_path / "q-table.png"
    figure = plot_q_table(agent.table, agent.env.unwrapped.desc, path, title="after 300")
    with Image.open(path) as image:
        width, height = image.size
        assert image.format == "PNG"
    assert 400 <= width <= 1500 and 400 <= height <= 1500
    assert figure.axes[0].get_title() == "after 300"
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts.count("hole") == 4 and texts.count("goal") == 1


def test_plot_q_table_rejects_a_table_that_does_not_fit_the_map(tmp_path):
    with pytest.raises(ConfigError, match=r"shape \(16, 4\).*received shape \(64, 4\)"):
        plot_q_table(np.zeros((64, 4)), LAKE, tmp_path / "q.png")
