"""SCAN: the grammar's 20,910 commands and their meanings (the paper's
worked examples, the authors' files by checksum), the three splits and
their properties, and the task's arrays and scoring."""

import hashlib

import numpy as np
import pytest

import zoo.tasks
from zoo.tasks import scan

# sha256 of the sorted lines of the authors' files (github.com/brendenlake/SCAN
# at c4b756c), so the generator is checked against them without copying them.
AUTHORS_FILES = {
    "tasks.txt": "345bff3c25864652f326ba1960aa515d156b63f45067ea57268f71d7362a2440",
    "length_split/tasks_train_length.txt":
        "114e6bdb1575f27d8d6d4449081970cef4846b2ec89b260dc2a0e5297c3e75d5",
    "length_split/tasks_test_length.txt":
        "45bb5e5f0e0678da016725d880ba4349267b93262762a2c66f9b51b04535a2ce",
    "add_prim_split/tasks_train_addprim_jump.txt":
        "1e5ab3357dc958267480a6012d3970953f35bb098a115b1754a1ad36d371b7cb",
    "add_prim_split/tasks_test_addprim_jump.txt":
        "48956239771e67ded4d090164919ab79d21756218a3e94f9abc2cbe346c0cd1c",
}


def _digest(rows):
    every = scan.commands()
    lines = sorted(scan.repository_line(every[i]) for i in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_the_grammar_generates_20910_distinct_commands():
    every = scan.commands()
    assert len(every) == len(set(every)) == scan.NUM_COMMANDS == 20910
    assert len(scan.verb_phrases()) == 34 and len(scan.sentences()) == 102
    assert _digest(range(len(every))) == AUTHORS_FILES["tasks.txt"]


@pytest.mark.parametrize("command,actions", [
    # Lake & Baroni 2018, Figure 1 / Table 1 and the repository's README
    ("jump", "JUMP"),
    ("jump left", "LTURN JUMP"),
    ("jump twice", "JUMP JUMP"),
    ("jump thrice", "JUMP JUMP JUMP"),
    ("turn left twice", "LTURN LTURN"),
    ("walk opposite left", "LTURN LTURN WALK"),
    ("turn opposite right", "RTURN RTURN"),
    ("turn around right", "RTURN RTURN RTURN RTURN"),
    ("jump around right", "RTURN JUMP RTURN JUMP RTURN JUMP RTURN JUMP"),
    ("jump left after walk twice", "WALK WALK LTURN JUMP"),
    ("look thrice and turn left", "LOOK LOOK LOOK LTURN"),
    ("jump opposite left and walk thrice", "LTURN LTURN JUMP WALK WALK WALK"),
    ("jump opposite left after walk around left",
     "LTURN WALK LTURN WALK LTURN WALK LTURN WALK LTURN LTURN JUMP"),
])
def test_the_papers_worked_examples(command, actions):
    assert " ".join(scan.interpret(command)) == actions
    assert command in scan.commands()


@pytest.mark.parametrize("command", ["turn", "turn twice", "jump left left", "fly",
                                     "walk and", "jump twice twice", "walk around"])
def test_commands_outside_the_grammar_are_refused(command):
    with pytest.raises(ValueError, match="invalid SCAN command"):
        scan.interpret(command)


@pytest.mark.parametrize("split,sizes", [("simple", (16728, 4182)), ("length", (16990, 3920)),
                                         ("add_jump", (14670, 7706))])
def test_splits_before_the_carve_are_the_authors(split, sizes):
    train, test = scan.split_commands(split)
    assert (len(train), len(test)) == sizes
    assert not set(train.tolist()) & set(test.tolist())
    if split != "simple":  # the authors' simple split is one random draw of theirs
        folder = "length_split" if split == "length" else "add_prim_split"
        name = "length" if split == "length" else "addprim_jump"
        assert _digest(train) == AUTHORS_FILES[f"{folder}/tasks_train_{name}.txt"]
        assert _digest(test) == AUTHORS_FILES[f"{folder}/tasks_test_{name}.txt"]


def _commands(data, split):
    sources = data.split(split).inputs["encoder_inputs"]
    return [" ".join(scan.WORDS[i - scan.FIRST_SYMBOL] for i in row if i) for row in sources]


def test_length_split_trains_on_at_most_22_actions_and_tests_longer():
    data = zoo.tasks.get("scan", split="length").build(seed=0)
    assert data.slices["train"]["action_length"].max() <= 22
    assert data.slices["validation"]["action_length"].max() <= 22
    assert data.slices["test"]["action_length"].min() > 22
    assert data.test.num_examples == 3920


def test_add_jump_trains_on_jump_alone_and_tests_every_other_jump_command():
    data = zoo.tasks.get("scan", split="add_jump").build(seed=0)
    train = _commands(data, "train")
    with_jump = {c for c in train if "jump" in c.split()}
    assert with_jump == {"jump"}
    assert train.count("jump") == 1467  # as in the authors' file, 10 % of it
    assert not any("jump" in c.split() for c in _commands(data, "validation"))
    test = _commands(data, "test")
    assert len(test) == 7706 and all("jump" in c.split() and c != "jump" for c in test)


def test_simple_split_is_fixed_and_validation_is_carved_from_training():
    task = zoo.tasks.get("scan", num_validation=500)
    first, other = task.build(seed=0), task.build(seed=1)
    test, validation = set(_commands(first, "test")), set(_commands(first, "validation"))
    assert len(test) == 4182 and len(validation) == 500
    assert set(_commands(other, "test")) == test
    assert not (validation | test) & set(_commands(first, "train"))
    assert sorted(_commands(first, "train")) == sorted(_commands(other, "train"))
    assert _commands(first, "train") != _commands(other, "train")  # order only


def test_targets_are_the_interpretation_then_the_end_token_and_all_scored():
    task = zoo.tasks.get("scan", num_train=64, num_validation=32, num_test=32)
    data = task.build(seed=3)
    split = data.test
    for command, target, weights in zip(_commands(data, "test"), split.targets,
                                        split.sample_weights):
        actions = [scan.ACTIONS[i - scan.FIRST_ACTION] for i in target[target > scan.END_TOKEN]]
        assert actions == scan.interpret(command)
        assert target[len(actions)] == scan.END_TOKEN and not target[len(actions) + 1:].any()
        np.testing.assert_array_equal(weights, (target > 0).astype("float32"))
    assert task.spec.target_length == 49 and task.spec.sequence_length == 9
    np.testing.assert_array_equal(data.slices["test"]["command_length"],
                                  [len(c.split()) for c in _commands(data, "test")])


def test_exact_match_needs_the_end_token_in_place():
    task = zoo.tasks.get("scan", num_train=64, num_validation=32, num_test=32)
    data = task.build(seed=0)
    split, slices = data.test, data.slices["test"]
    right = split.targets.copy()
    scores = task.evaluate(right, split, slices)
    assert scores["exact_match"] == 1.0 and scores["token_accuracy"] == 1.0
    assert {"by_action_length", "by_command_length"} <= set(scores)
    longer = right.copy()
    ends = (right > 0).sum(axis=1) - 1  # position of the end token
    longer[np.arange(len(right)), ends] = scan.FIRST_ACTION  # one more action, no end
    assert task.evaluate(longer, split)["exact_match"] == 0.0
    past_the_end = right.copy()
    past_the_end[right == 0] = scan.FIRST_ACTION  # anything after the end is not scored
    assert task.evaluate(past_the_end, split)["exact_match"] == 1.0


@pytest.mark.parametrize("knobs,match", [
    (dict(split="random"), "split"),
    (dict(num_validation=20000), "num_validation"),
    (dict(num_train=20000), "num_train"),
    (dict(split="length", num_test=4000), "num_test"),
])
def test_bad_knobs_are_refused_with_the_rule(knobs, match):
    with pytest.raises(ValueError, match=match) as error:
        zoo.tasks.get("scan", **knobs)
    assert "Received" in str(error.value)
