# A module_utils file of the role, imported by its modules.
def shout(s):
    return s.upper() + '!'
