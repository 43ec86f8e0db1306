
use builtin;
use str;

set edit:completion:arg-completer[gitops] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'gitops'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'gitops'= {
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand quickstart 'Create a sample repository to try gitops on (offline)'
            cand init 'Set up an existing repository: `.gitops.yaml` and the environment branches'
            cand feature 'Work on feature branches cut from the first environment'
            cand image 'Work with the image tags an environment runs'
            cand promote 'Promote into ENV: build the promotion branch and open its pull request'
            cand status 'Show what each environment runs, what is waiting and what drifted'
            cand diff 'Show what promoting ENV would change'
            cand check 'Check that every configuration repository follows the branch strategy'
            cand completions 'Print the shell completion script for SHELL'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'gitops;quickstart'= {
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;init'= {
            cand --environments 'The environments, in promotion order'
            cand --branch 'An environment''s branch, when not its name (repeatable)'
            cand --tags 'An environment''s tag policy: commit-sha, semver-rc, semver, any, regex:<p> (repeatable)'
            cand --promotion 'An environment''s promotion mode: auto-merge or pull-request (repeatable)'
            cand --images 'The team''s images, as name patterns (registry.example.com/shop/*); the default is proposed from the images the default branch runs. An empty value writes no `images:` (every image is then the team''s)'
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand -y 'Accept the defaults for every question not answered by a flag, and push'
            cand --yes 'Accept the defaults for every question not answered by a flag, and push'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;feature'= {
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand start 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`'
            cand finish 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'gitops;feature;start'= {
            cand --from 'Branch off this environment instead of the first one'
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --offline 'Do not fetch: branch off the local environment branch'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;feature;finish'= {
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --draft 'Open the pull request as a draft'
            cand --dry-run 'Show what would be pushed and the pull request; push nothing (no token needed)'
            cand --json 'Print one JSON document: action, branch, pull_request'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;feature;help'= {
            cand start 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`'
            cand finish 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'gitops;feature;help;start'= {
        }
        &'gitops;feature;help;finish'= {
        }
        &'gitops;feature;help;help'= {
        }
        &'gitops;image'= {
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand set 'Set IMAGE''s tag to TAG on ENV''s branch, through a pull request: checks TAG against ENV''s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them'
            cand tags 'List IMAGE''s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images'' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise'
            cand update 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment''s promotion mode). Each image''s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'gitops;image;set'= {
            cand --env 'The environment'
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --dry-run 'Show the change; push nothing (no token needed)'
            cand --allow-downgrade 'Allow a tag older than the one the environment runs'
            cand --json 'Print one JSON document: action, branch, pull_request, ...'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;image;tags'= {
            cand --env 'Only this environment (repeat for several); all by default'
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --json 'Print one JSON document: the tags, and per environment what it accepts and would take'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;image;update'= {
            cand --env 'Only this environment (repeat for several); all by default'
            cand --image 'Only this image: a full name or its last path part, as `image set` takes it (repeat for several); every team image by default'
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --dry-run 'Show what would be updated; push nothing (no branch, no pull request)'
            cand --json 'Print one JSON document: a row per environment and image'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;image;help'= {
            cand set 'Set IMAGE''s tag to TAG on ENV''s branch, through a pull request: checks TAG against ENV''s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them'
            cand tags 'List IMAGE''s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images'' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise'
            cand update 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment''s promotion mode). Each image''s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'gitops;image;help;set'= {
        }
        &'gitops;image;help;tags'= {
        }
        &'gitops;image;help;update'= {
        }
        &'gitops;image;help;help'= {
        }
        &'gitops;promote'= {
            cand --from 'Promote from this environment instead of ENV''s upstream'
            cand --set-image 'The tag for an image ENV does not run yet (repeatable), e.g. `--set-image search=1.0.0`'
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --dry-run 'Print the plan, the title and the body; push nothing (no token needed)'
            cand -y 'Do not ask for confirmation (needed without a terminal for `confirm: true` environments)'
            cand --yes 'Do not ask for confirmation (needed without a terminal for `confirm: true` environments)'
            cand --draft 'Open the pull request as a draft'
            cand --json 'Print one JSON document (see the README)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;status'= {
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --json 'Print one JSON document (see the README for its shape)'
            cand --no-fetch 'Do not fetch origin; use what was fetched last'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;diff'= {
            cand --from 'Promote from this environment instead of ENV''s upstream'
            cand --set-image 'The tag for an image ENV does not run yet (repeatable), as `promote` takes it'
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --patch 'Also print the unified text diff of the changed files'
            cand --json 'Print one JSON document (see the README for its shape)'
            cand --exit-code 'Exit 1 when there is something to promote'
            cand --no-fetch 'Do not fetch origin; use what was fetched last'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;check'= {
            cand --workspace 'A workspace file: `repos: [path-or-url, ...]`, optional `reference:`'
            cand --config 'Check with this configuration instead of the `.gitops.yaml` on origin: try a change to it before its pull request'
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand --json 'Print one JSON document (see the README)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;completions'= {
            cand -C 'Run as if gitops was started in DIR'
            cand --color 'When to use colour: auto (a terminal, and NO_COLOR unset), always, never'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'gitops;help'= {
            cand quickstart 'Create a sample repository to try gitops on (offline)'
            cand init 'Set up an existing repository: `.gitops.yaml` and the environment branches'
            cand feature 'Work on feature branches cut from the first environment'
            cand image 'Work with the image tags an environment runs'
            cand promote 'Promote into ENV: build the promotion branch and open its pull request'
            cand status 'Show what each environment runs, what is waiting and what drifted'
            cand diff 'Show what promoting ENV would change'
            cand check 'Check that every configuration repository follows the branch strategy'
            cand completions 'Print the shell completion script for SHELL'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'gitops;help;quickstart'= {
        }
        &'gitops;help;init'= {
        }
        &'gitops;help;feature'= {
            cand start 'Fetch origin, create NAME from `origin/<first environment>` (not from a stale local branch), check it out and set it to push to `origin/NAME`'
            cand finish 'Push the current feature branch and open its pull request into the first environment, or refresh the one already open. Refuses on an environment branch'
        }
        &'gitops;help;feature;start'= {
        }
        &'gitops;help;feature;finish'= {
        }
        &'gitops;help;image'= {
            cand set 'Set IMAGE''s tag to TAG on ENV''s branch, through a pull request: checks TAG against ENV''s policy and refuses a downgrade, changes only the bytes of the tag in every manifest that runs IMAGE, commits on `gitops/image-<env>-<name>` from `origin/<env>`, pushes and opens (or refreshes) the pull request — with auto-merge for `auto-merge` environments. One branch and one pull request per environment and image: a newer tag refreshes them'
            cand tags 'List IMAGE''s tags in its registry and, for each environment, which ones its tag policy accepts and which one `image update` would take: the newest accepted tag that is newer than every tag the environment runs (1.3.0-rc.10 is newer than 1.3.0-rc.9; never a downgrade). `commit-sha` tags are ordered by their images'' creation times, read from the registry for the accepted tags only. Credentials come from ~/.docker/config.json (or $DOCKER_CONFIG/config.json) and $REGISTRY_AUTH_FILE, with their credential helpers; anonymous otherwise'
            cand update 'Update every team image (config `images:`) each environment runs to the newest tag its policy accepts in the registry, when newer than the one it runs: for each, what `image set IMAGE TAG --env ENV` does (one branch and one pull request per environment and image, auto-merge per the environment''s promotion mode). Each image''s tags are listed once for all environments. Exits 3 when a registry or the forge could not be reached, after doing the rest'
        }
        &'gitops;help;image;set'= {
        }
        &'gitops;help;image;tags'= {
        }
        &'gitops;help;image;update'= {
        }
        &'gitops;help;promote'= {
        }
        &'gitops;help;status'= {
        }
        &'gitops;help;diff'= {
        }
        &'gitops;help;check'= {
        }
        &'gitops;help;completions'= {
        }
        &'gitops;help;help'= {
        }
    ]
    $completions[$command]
}
